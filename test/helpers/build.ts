// Test fixtures are built in code with the same writer as the sample image.
export * from '../../scripts/image-writer.ts';

/** deterministic bytes that differ per seed (file contents for tests: gzip cannot shrink them much) */
export function seededBytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}
