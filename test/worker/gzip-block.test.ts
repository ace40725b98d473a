// The pool's gzip block job in Node: every block of a Blob, joined in order, is the one-thread
// reference; stored content shorter than the image says is a STORAGE error, not a short layer.
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { blockCount, blockRange, GZIP_BLOCK, GZIP_LEVEL, GzipJoin, gzipBlocks } from '../../src/core/compress/gzip-blocks.ts';
import { deflateSlice } from '../../src/worker/gzip-block.ts';

function text(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; b[i] = 97 + ((x >>> 16) % 9) + (i % 64 === 0 ? -87 : 0); }
  return b;
}

describe('deflateSlice', () => {
  test.each([1, GZIP_BLOCK, 2 * GZIP_BLOCK + 777])('%d bytes: the blocks, joined in order, are gzipBlocks()', async (n) => {
    const data = text(n);
    const blob = new Blob([data]);
    const join = new GzipJoin();
    const parts: Uint8Array[] = [join.header];
    // out of order, as pool workers finish them
    const blocks = await Promise.all([...Array(blockCount(n)).keys()].reverse().map((i) => deflateSlice(blob, blockRange(i, n), GZIP_LEVEL)));
    for (const [i, b] of blocks.reverse().entries()) { parts.push(b.bytes); const r = blockRange(i, n); join.add(b.crc, r.end - r.start); }
    parts.push(join.trailer());
    const gz = Buffer.concat(parts);
    expect(Buffer.compare(gz, Buffer.from(gzipBlocks(data)))).toBe(0);
    expect(Buffer.compare(gunzipSync(gz), Buffer.from(data))).toBe(0);
  });

  test('stored content shorter than the layer: STORAGE, naming the bytes', async () => {
    const n = 2 * GZIP_BLOCK;
    const short = new Blob([text(n - 100)]);
    await expect(deflateSlice(short, blockRange(1, n), GZIP_LEVEL)).rejects.toMatchObject({
      code: 'STORAGE', message: expect.stringMatching(/Reading bytes 1015808–2097152 of the layer to compress gave 1081244: .*shorter/),
    });
  });
});
