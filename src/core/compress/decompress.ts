// Layer decompression chosen by magic bytes, whatever the media type says.
// gzip: the platform's DecompressionStream first (native speed); if it fails — multi-member
// streams and zero padding make Chromium's stream throw "Junk found after end of compressed
// data" — the whole stream is decoded again with pako, skipping the bytes already delivered.
// zstd: fzstd (pure JS; browsers have no zstd DecompressionStream).
import { Inflate } from 'pako';
import { Decompress as ZstdDecompress } from 'fzstd';
import { StrataError } from '../errors.ts';
import type { Compression } from '../model.ts';

export type Opener = () => ReadableStream<Uint8Array>;
export type Sink = (chunk: Uint8Array) => void | Promise<void>;

export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export interface DecompressOptions {
  signal?: AbortSignal;
  /** what is being read, for messages: e.g. `layer 3 (blobs/sha256/ab…)` */
  what: string;
  /** force the pure-JS gzip path (tests, or where DecompressionStream is missing) */
  noNativeGzip?: boolean;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
}

/** Read `open()` to the end, decompress by `kind`, hand the output to `sink` in order. Returns output bytes. */
export async function decompressTo(open: Opener, kind: Compression, sink: Sink, opts: DecompressOptions): Promise<number> {
  if (kind === 'none') return pump(open(), sink, opts.signal);
  if (kind === 'zstd') return zstdTo(open(), sink, opts);
  const native = typeof DecompressionStream !== 'undefined' && !opts.noNativeGzip;
  if (!native) return pakoTo(open(), sink, 0, opts);
  let emitted = 0;
  let sinkFailed = false;
  try {
    const out = open().pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
    return await pump(out, async (c) => {
      try { await sink(c); } catch (e) { sinkFailed = true; throw e; }
      emitted += c.length;
    }, opts.signal);
  } catch (err) {
    // abort, or the sink's own error (whatever its type): feeding the sink again would hand it
    // bytes after a failure it has not recovered from
    if (err instanceof StrataError || sinkFailed) throw err;
    // Re-decode with pako: it accepts multi-member and padded streams and names real corruption.
    return pakoTo(open(), sink, emitted, opts);
  }
}

async function pump(stream: ReadableStream<Uint8Array>, sink: Sink, signal?: AbortSignal): Promise<number> {
  const reader = stream.getReader();
  let total = 0;
  try {
    for (;;) {
      checkAbort(signal);
      const { done, value } = await reader.read();
      if (done) return total;
      total += value.length;
      await sink(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** pako over a stream; `skip` output bytes were already delivered by the native attempt. */
async function pakoTo(stream: ReadableStream<Uint8Array>, sink: Sink, skip: number, opts: DecompressOptions): Promise<number> {
  let out: Uint8Array[] = [];
  let produced = 0;
  let inf = newInflate();
  let members = 0;
  let sawInput = false;
  function newInflate(): Inflate {
    const i = new Inflate({ chunkSize: 256 << 10 });
    i.onData = (c: Uint8Array) => { out.push(c); };
    return i;
  }
  function feed(chunk: Uint8Array): void {
    let data = chunk;
    while (data.length) {
      if (inf.ended) {
        if (inf.err !== 0) break;
        // a member ended: zero padding after it is allowed, anything else must be another member
        let nz = 0;
        while (nz < data.length && data[nz] === 0) nz++;
        if (nz === data.length) return;
        data = data.subarray(nz);
        inf = newInflate();
      }
      inf.push(data, false);
      if (inf.err !== 0) break;
      const strm = (inf as unknown as { strm: { avail_in: number } }).strm;
      if (!inf.ended) return;
      members++;
      data = data.subarray(data.length - strm.avail_in);
    }
    if (inf.err !== 0) {
      throw new StrataError('GZIP_CORRUPT', `${opts.what}: gzip data is corrupt (${inf.msg || 'error ' + inf.err}) after ${produced} bytes of output. The file is damaged; download or export it again.`);
    }
  }
  const reader = stream.getReader();
  try {
    for (;;) {
      checkAbort(opts.signal);
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length) sawInput = true;
      feed(value);
      for (const c of out) {
        produced += c.length;
        const start = Math.max(0, c.length - Math.max(0, produced - skip));
        if (start < c.length) await sink(start ? c.subarray(start) : c);
      }
      out = [];
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (!sawInput) throw new StrataError('GZIP_CORRUPT', `${opts.what}: the gzip stream is empty.`);
  if (!inf.ended) {
    throw new StrataError('GZIP_CORRUPT', `${opts.what}: the gzip stream is truncated (it ends after ${produced} bytes of output, before the end of member ${members + 1}). The file was probably cut short while copying or downloading.`);
  }
  return produced;
}

async function zstdTo(stream: ReadableStream<Uint8Array>, sink: Sink, opts: DecompressOptions): Promise<number> {
  let out: Uint8Array[] = [];
  let total = 0;
  let finished = false;
  const z = new ZstdDecompress((c, final) => { out.push(c); if (final) finished = true; });
  const reader = stream.getReader();
  const fail = (e: unknown): never => {
    throw new StrataError('ZSTD_CORRUPT', `${opts.what}: zstd data is corrupt (${e instanceof Error ? e.message : String(e)}) after ${total} bytes of output. The file is damaged; download or export it again.`, { cause: e });
  };
  try {
    for (;;) {
      checkAbort(opts.signal);
      const { done, value } = await reader.read();
      try { z.push(done ? new Uint8Array(0) : value, done); } catch (e) { fail(e); }
      for (const c of out) { total += c.length; await sink(c); }
      out = [];
      if (done) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (!finished && total === 0) fail(new Error('no complete frame'));
  return total;
}
