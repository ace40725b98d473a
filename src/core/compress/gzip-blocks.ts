// gzip written in independent blocks, so several threads can compress one stream and every
// platform gets the same bytes. The stream is cut at fixed offsets (GZIP_BLOCK); each block is raw
// deflate primed with the 32 KiB before it as its dictionary and ended by a sync flush (the last
// one by finish), so the blocks concatenate into ONE deflate stream inside ONE gzip member, whose
// CRC-32 is combined from the blocks' own. Output depends only on the bytes, the block size and
// the level — not on how many threads ran — and pako (browser) and Node's zlib (CLI, when a probe
// shows it gives the same bytes) produce it alike.
import { Deflate } from 'pako';
import { concatBytes } from '../bytes.ts';

/** zlib's default: what `gzip`, Go's compress/gzip and container tools use for layers */
export const GZIP_LEVEL = 6;
/** uncompressed bytes per block */
export const GZIP_BLOCK = 1 << 20;
/** the deflate window: a block's dictionary is this much of the stream before it */
export const GZIP_WINDOW = 32 << 10;

const Z_SYNC_FLUSH = 2;
const Z_FINISH = 4;

/** Raw deflate of one block; `dictionary` is the GZIP_WINDOW bytes before it (none for the first). */
export function deflateBlock(block: Uint8Array, dictionary: Uint8Array | null, last: boolean, level = GZIP_LEVEL): Uint8Array {
  const d = new Deflate({ level, raw: true, chunkSize: 256 << 10, ...(dictionary?.length ? { dictionary } : {}) });
  const parts: Uint8Array[] = [];
  let total = 0;
  d.onData = (c: Uint8Array) => { parts.push(c); total += c.length; };
  d.push(block, last ? Z_FINISH : Z_SYNC_FLUSH);
  if (d.err) throw new Error(`deflate failed: ${d.msg || d.err}`);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The compressed block `i` of a stream of `total` bytes needs these bytes: [dictStart, end). */
export function blockRange(i: number, total: number): { start: number; end: number; dictStart: number; last: boolean } {
  const start = i * GZIP_BLOCK;
  const end = Math.min(total, start + GZIP_BLOCK);
  return { start, end, dictStart: Math.max(0, start - GZIP_WINDOW), last: end >= total };
}

export const blockCount = (total: number): number => Math.max(1, Math.ceil(total / GZIP_BLOCK));

/** gzip member header: no name, no mtime (reproducible), OS "unknown". */
export function gzipHeader(): Uint8Array {
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);
}

/** gzip member trailer: CRC-32 and length mod 2^32, little-endian. */
export function gzipTrailer(crc: number, size: number): Uint8Array {
  const t = new Uint8Array(8);
  const len = size % 2 ** 32;
  for (let i = 0; i < 4; i++) { t[i] = (crc >>> (8 * i)) & 0xff; t[4 + i] = Math.floor(len / 2 ** (8 * i)) & 0xff; }
  return t;
}

// ---- CRC-32 (IEEE, reflected, as gzip uses) ----

const POLY = 0xedb88320;
/** 8 tables: slicing by 8 bytes */
const T = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let s = 1; s < 8; s++) t[s * 256 + n] = (t[(s - 1) * 256 + n] >>> 8) ^ t[t[(s - 1) * 256 + n] & 0xff];
  return t;
})();

/** CRC-32 of `b`, continuing from `crc` (0 to start). */
export function crc32(b: Uint8Array, crc = 0): number {
  let c = ~crc;
  let i = 0;
  const n8 = b.length - (b.length % 8);
  for (; i < n8; i += 8) {
    const lo = c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    c = T[1792 + (lo & 0xff)] ^ T[1536 + ((lo >>> 8) & 0xff)] ^ T[1280 + ((lo >>> 16) & 0xff)] ^ T[1024 + (lo >>> 24)]
      ^ T[768 + b[i + 4]] ^ T[512 + b[i + 5]] ^ T[256 + b[i + 6]] ^ T[b[i + 7]];
  }
  for (; i < b.length; i++) c = (c >>> 8) ^ T[(c ^ b[i]) & 0xff];
  return ~c >>> 0;
}

/**
 * CRC-32 of A‖B from crc(A), crc(B) and |B|. Over GF(2), appending |B| zero bytes to A multiplies
 * its remainder by x^(8|B|) mod P; the register's inversions cancel between the two terms, so
 * crc(A‖B) = crc(A)·x^(8|B|) mod P ⊕ crc(B). Polynomials are bit-reflected: bit 31 is x^0.
 */
export function crc32Combine(crcA: number, crcB: number, lenB: number): number {
  return (mulModP(xPow8n(lenB), crcA) ^ crcB) >>> 0;
}

/** a·b mod P, both reflected */
function mulModP(a: number, b: number): number {
  let p = 0;
  for (let bit = 0x80000000; bit !== 0; bit >>>= 1) {
    if (a & bit) p ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(8n) mod P, by squaring: x^8, x^16, x^32, … taken where n has a bit set */
function xPow8n(n: number): number {
  let result = 0x80000000; // x^0
  let sq = 0x00800000;     // x^8
  while (n > 0) {
    if (n % 2) result = mulModP(sq, result);
    sq = mulModP(sq, sq);
    n = Math.floor(n / 2);
  }
  return result;
}

/** Joins compressed blocks, in order, into one gzip member: header, blocks, then trailer(). */
export class GzipJoin {
  private crc = 0;
  private size = 0;
  readonly header = gzipHeader();
  /** a block of `length` uncompressed bytes with CRC-32 `crc` was appended */
  add(crc: number, length: number): void {
    this.crc = crc32Combine(this.crc, crc, length);
    this.size += length;
  }
  trailer(): Uint8Array { return gzipTrailer(this.crc, this.size); }
}

/** The whole stream in blocks, on this thread: the reference the parallel writers must equal. */
export function gzipBlocks(data: Uint8Array, level = GZIP_LEVEL): Uint8Array {
  const join = new GzipJoin();
  const parts: Uint8Array[] = [join.header];
  for (let i = 0; i < blockCount(data.length); i++) {
    const r = blockRange(i, data.length);
    const block = data.subarray(r.start, r.end);
    parts.push(deflateBlock(block, r.start > 0 ? data.subarray(r.dictStart, r.start) : null, r.last, level));
    join.add(crc32(block), block.length);
  }
  parts.push(join.trailer());
  return concatBytes(parts);
}
