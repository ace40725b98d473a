// worker_threads glue for the squashed layer's blocks: deflate one block (+ its CRC-32), or add a
// block to this worker's running sha256 — so the main thread only reads and writes. Blocks arrive
// transferred and go back the same way for reuse. Deflate is Node's zlib when the pool's probe
// found it gives pako's bytes (it is ~2.3× faster), else pako.
import { parentPort } from 'node:worker_threads';
import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';
import { crc32, deflateBlock } from '../core/compress/gzip-blocks.ts';

export type BlockJob =
  | { kind: 'deflate'; id: number; block: Uint8Array; length: number; dict: Uint8Array | null; last: boolean; level: number; native: boolean }
  | { kind: 'hash'; id: number; block: Uint8Array; length: number }
  | { kind: 'digest'; id: number };
export type BlockDone =
  | { kind: 'deflated'; id: number; out: Uint8Array; crc: number; length: number; block: Uint8Array }
  | { kind: 'hashed'; id: number; block: Uint8Array }
  | { kind: 'digest'; id: number; digest: string };

/** one block compressed: Node's zlib (`native`) or pako, the same bytes when the probe said so */
export function compressBlock(block: Uint8Array, dict: Uint8Array | null, last: boolean, level: number, native: boolean): Uint8Array {
  if (!native) return deflateBlock(block, dict, last, level);
  return zlib.deflateRawSync(block, {
    level, ...(dict?.length ? { dictionary: dict } : {}),
    finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
  });
}

const nativeCrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
let hash: Hash = createHash('sha256');

parentPort?.on('message', (m: BlockJob) => {
  const back = (d: BlockDone, transfer: ArrayBuffer[]) => parentPort!.postMessage(d, transfer);
  if (m.kind === 'digest') {
    back({ kind: 'digest', id: m.id, digest: 'sha256:' + hash.digest('hex') }, []);
    hash = createHash('sha256');
    return;
  }
  const data = m.block.subarray(0, m.length);
  if (m.kind === 'hash') {
    hash.update(data);
    back({ kind: 'hashed', id: m.id, block: m.block }, [m.block.buffer as ArrayBuffer]);
    return;
  }
  const out = compressBlock(data, m.dict, m.last, m.level, m.native);
  const crc = nativeCrc ? nativeCrc(data) : crc32(data);
  // the output is copied: zlib's may share a pooled buffer
  back({ kind: 'deflated', id: m.id, out: new Uint8Array(out), crc, length: m.length, block: m.block }, [m.block.buffer as ArrayBuffer]);
});
