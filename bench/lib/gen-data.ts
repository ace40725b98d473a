// Generated "binary-ish" files that top the image up to its target size, with the compressibility
// mix of real data: incompressible (media, already-compressed), log text, and database-like blocks.

import { closeSync, openSync, writeSync } from 'node:fs';

export type DataKind = 'random' | 'text' | 'mixed';

const CHUNK = 1 << 20;
const BLOCK = 64 << 10;

/** xorshift32: deterministic for a seed, fast enough to fill hundreds of MB. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  fill(buf: Uint8Array): void {
    const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.next();
  }
}

const LEVELS = ['INFO ', 'DEBUG', 'WARN ', 'INFO ', 'INFO ', 'ERROR'];
const PATHS = ['/api/v1/items', '/api/v1/users', '/healthz', '/static/app.js', '/api/v2/search'];

function logText(rng: Rng, bytes: number): Uint8Array {
  let s = '';
  let t = 1_700_000_000_000;
  while (s.length < bytes) {
    t += rng.next() % 5000;
    const r = rng.next();
    s += `${new Date(t).toISOString()} ${LEVELS[r % LEVELS.length]} worker-${r % 7} req=${(rng.next() >>> 8).toString(16)} ` +
      `path=${PATHS[(r >>> 8) % PATHS.length]}/${rng.next() % 10000} status=${r % 13 === 0 ? 500 : 200} dur=${r % 900}ms\n`;
  }
  return new TextEncoder().encode(s.slice(0, bytes));
}

function fillChunk(kind: DataKind, rng: Rng, chunk: Uint8Array): void {
  if (kind === 'random') return rng.fill(chunk);
  if (kind === 'text') return chunk.set(logText(rng, chunk.length));
  // mixed: 64 KiB blocks of random / zeros / log text / a repeated 4 KiB page, like a database file
  for (let off = 0; off < chunk.length; off += BLOCK) {
    const block = chunk.subarray(off, off + BLOCK);
    switch (rng.next() % 4) {
      case 0: rng.fill(block); break;
      case 1: block.fill(0); break;
      case 2: block.set(logText(rng, block.length)); break;
      default: {
        const page = new Uint8Array(4096);
        rng.fill(page);
        for (let p = 0; p < block.length; p += page.length) block.set(page.subarray(0, block.length - p), p);
      }
    }
  }
}

/** Write `bytes` of generated data of one kind to `file`. */
export function writeGenerated(file: string, bytes: number, kind: DataKind, seed: number): void {
  const rng = new Rng(seed);
  const chunk = new Uint8Array(CHUNK);
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += CHUNK) {
      const n = Math.min(CHUNK, bytes - done);
      fillChunk(kind, rng, chunk);
      writeSync(fd, chunk, 0, n);
    }
  } finally {
    closeSync(fd);
  }
}
