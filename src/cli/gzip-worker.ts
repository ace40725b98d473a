// worker_threads glue: one block of the squashed layer per message → raw deflate + CRC-32.
// Node's zlib when the pool's probe found it gives pako's bytes (it is ~2.5× faster), else pako.
import { parentPort } from 'node:worker_threads';
import zlib from 'node:zlib';
import { crc32, deflateBlock } from '../core/compress/gzip-blocks.ts';

export interface GzipJob { id: number; block: Uint8Array; length: number; dict: Uint8Array | null; last: boolean; level: number; native: boolean }
export interface GzipDone { id: number; out: Uint8Array; crc: number; length: number; block: Uint8Array }

/** one block compressed: Node's zlib (`native`) or pako, the same bytes when the probe said so */
export function compressBlock(block: Uint8Array, dict: Uint8Array | null, last: boolean, level: number, native: boolean): Uint8Array {
  if (!native) return deflateBlock(block, dict, last, level);
  return zlib.deflateRawSync(block, {
    level, ...(dict?.length ? { dictionary: dict } : {}),
    finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
  });
}

const nativeCrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;

parentPort?.on('message', (m: GzipJob) => {
  const data = m.block.subarray(0, m.length);
  const out = compressBlock(data, m.dict, m.last, m.level, m.native);
  const crc = nativeCrc ? nativeCrc(data) : crc32(data);
  // the block's buffer goes back for reuse; the output is copied (zlib's may share a pool)
  parentPort!.postMessage({ id: m.id, out: new Uint8Array(out), crc, length: m.length, block: m.block } satisfies GzipDone, [m.block.buffer as ArrayBuffer]);
});
