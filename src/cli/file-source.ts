// Node fast paths over files: layer bytes straight from the archive file, gzip through zlib
// (native, multi-member and padding aware), positional reads for export content.
import { closeSync, createReadStream, createWriteStream, openSync, readSync, unlinkSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { StrataError } from '../core/errors.ts';
import type { Compression } from '../core/model.ts';
import type { Hasher } from '../core/env.ts';

const CHUNK = 1 << 20;

/** The uncompressed stream of bytes [start, end) of `path`, or null where core must decode it. */
export function fileSource(path: string, start: number, end: number, compression: Compression, what: string): AsyncIterable<Uint8Array> | null {
  if (compression === 'zstd') return null;
  if (end <= start) return (async function* () { /* empty */ })();
  const raw = createReadStream(path, { start, end: end - 1, highWaterMark: CHUNK });
  if (compression === 'none') return raw as AsyncIterable<Uint8Array>;
  const gz = createGunzip({ chunkSize: CHUNK });
  raw.on('error', (e) => gz.destroy(e));
  raw.pipe(gz);
  return translate(gz as AsyncIterable<Uint8Array>, what);
}

async function* translate(src: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
  let out = 0;
  try {
    for await (const c of src) { out += c.length; yield c; }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/unexpected end of file/.test(msg)) {
      throw new StrataError('GZIP_CORRUPT', `${what}: the gzip stream is truncated (it ends after ${out} bytes of output). The file was probably cut short while copying or downloading.`, { cause: e });
    }
    throw new StrataError('GZIP_CORRUPT', `${what}: gzip data is corrupt (${msg}) after ${out} bytes of output. The file is damaged; download or export it again.`, { cause: e });
  }
}

export async function hashFile(path: string, start: number, end: number, h: Hasher): Promise<string> {
  if (end > start) for await (const c of createReadStream(path, { start, end: end - 1, highWaterMark: CHUNK })) h.update(c as Uint8Array);
  return h.digest();
}

/** Copy bytes [offset, offset+size) of fd `from` into the writer, through a reused buffer. */
export function copyRange(fd: number, offset: number, size: number, write: (b: Uint8Array) => void, buf: Uint8Array): void {
  let done = 0;
  while (done < size) {
    const want = Math.min(buf.length, size - done);
    const n = readSync(fd, buf, 0, want, offset + done);
    if (n <= 0) throw new StrataError('IO', `content ends early while reading at byte ${offset + done}`);
    write(buf.subarray(0, n));
    done += n;
  }
}

/**
 * If `path` starts with a gzip header, inflates it with zlib into `out` and returns `out`; else
 * null. Bounded memory (a stream pipeline). A gzip error is the core's GZIP_CORRUPT, naming the file.
 */
export async function gunzipWrapped(path: string, out: string): Promise<string | null> {
  const head = new Uint8Array(2);
  const fd = openSync(path, 'r');
  try { readSync(fd, head, 0, 2, 0); } finally { closeSync(fd); }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return null;
  const name = path.split('/').pop()!;
  try {
    await pipeline(createReadStream(path, { highWaterMark: CHUNK }), createGunzip({ chunkSize: CHUNK }), createWriteStream(out, { highWaterMark: CHUNK }));
    return out;
  } catch (e) {
    try { unlinkSync(out); } catch { /* never written */ }
    const msg = e instanceof Error ? e.message : String(e);
    if (/unexpected end of file/.test(msg)) {
      throw new StrataError('GZIP_CORRUPT', `${name} (gzip wrapper): the gzip stream is truncated. The file was probably cut short while copying or downloading.`, { cause: e });
    }
    throw new StrataError('GZIP_CORRUPT', `${name} (gzip wrapper): gzip data is corrupt (${msg}). The file is damaged; download or export it again.`, { cause: e });
  }
}
