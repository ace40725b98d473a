// One block of a gzip layer held as a Blob (core/compress/gzip-blocks.ts): read the block and the
// 32 KiB before it, deflate the block primed with them. What a pool worker does per `deflate` job.
import { StrataError } from '../core/errors.ts';
import { crc32, deflateBlock } from '../core/compress/gzip-blocks.ts';

export async function deflateSlice(blob: Blob, r: { start: number; end: number; dictStart: number; last: boolean }, level: number): Promise<{ bytes: Uint8Array<ArrayBuffer>; crc: number }> {
  const bytes = new Uint8Array(await blob.slice(r.dictStart, r.end).arrayBuffer());
  if (bytes.length !== r.end - r.dictStart) {
    throw new StrataError('STORAGE', `Reading bytes ${r.dictStart}–${r.end} of the layer to compress gave ${bytes.length}: its stored content is shorter than the image says. Delete the image and import it again.`);
  }
  const cut = r.start - r.dictStart;
  const block = bytes.subarray(cut);
  // a copy of its own: the result is transferred to the coordinator
  return { bytes: deflateBlock(block, cut ? bytes.subarray(0, cut) : null, r.last, level).slice(), crc: crc32(block) };
}
