// Decode one layer: decompress by magic bytes, parse the tar stream, optionally hash the
// uncompressed stream (diff_id), and spool it so file content can be sliced later. This is the
// unit of parallel work (a worker decodes one layer at a time).
import { brief, StrataError, wrapError } from '../errors.ts';
import type { CoreEnv } from '../env.ts';
import type { LayerInfo } from '../model.ts';
import { decompressTo } from '../compress/decompress.ts';
import { TarReader, type TarEntry } from '../tar/reader.ts';
import { tryCleanPath } from './paths.ts';
import type { EntryColumns } from './entry-columns.ts';

export interface DecodedLayer {
  index: number;
  entries: TarEntry[];
  /** uncompressed stream size */
  size: number;
  /**
   * the uncompressed stream: the layer blob itself when it is not compressed, else the spool's
   * Blob — or an empty Blob when `spool` was false
   */
  content: Blob;
  /** sha256 of the uncompressed stream, when asked for */
  diffId?: string;
  /** the content of the files `capture` asked for, by offset in the uncompressed stream */
  captured?: CapturedFile[];
  /** the entries as columns (a worker's compact form), when `entries` is left empty */
  columns?: EntryColumns;
}

/** A small file's content, kept while its layer streamed past (`DecodeOptions.capture`). */
export interface CapturedFile { offset: number; bytes: Uint8Array }

/**
 * Which regular files to keep while decoding: called with the "/"-rooted cleaned path and the
 * size; keeps the whole file when it returns true. The analysis reads package databases this way
 * without waiting for a layer's content to be stored. Bounded per layer (CAPTURE_LIMIT).
 */
export type CaptureTest = (path: string, size: number) => boolean;

/** Capture stops for a layer past this many bytes: what is left is read from storage later. */
export const CAPTURE_LIMIT = 64 << 20;

export interface DecodeOptions {
  signal?: AbortSignal;
  /** compute the uncompressed sha256 on the way (the CLI; the browser verifies separately) */
  hashDiffId?: boolean;
  /** called with compressed bytes read and uncompressed bytes produced so far */
  onProgress?: (bytesIn: number, bytesOut: number) => void;
  /** keep the uncompressed stream (needed for content; not for a listing) */
  spool?: boolean;
  /**
   * The uncompressed stream from a faster platform decoder (Node's zlib over a file); errors it
   * throws should already be StrataErrors. Without it the layer is decompressed here.
   */
  source?: AsyncIterable<Uint8Array>;
  /** Takes each entry as it is parsed instead of collecting them in `entries` (which stays empty). */
  onEntry?: (e: TarEntry) => void;
  capture?: CaptureTest;
}

/**
 * Header walk of an uncompressed layer: file data longer than this is jumped over instead of read.
 * Reopening a Blob stream costs about as much as reading a few MB of it.
 */
const SKIP_OVER = 2 << 20;

export function layerLabel(info: LayerInfo, total?: number): string {
  return `layer ${info.index + 1}${total ? ` of ${total}` : ''} (${brief(info.digest ?? info.member)})`;
}

export async function decodeLayer(info: LayerInfo, blob: Blob, env: CoreEnv, opts: DecodeOptions = {}): Promise<DecodedLayer> {
  const what = layerLabel(info);
  const entries: TarEntry[] = [];
  const onEntry = opts.onEntry ?? ((e: TarEntry) => { entries.push(e); });
  const capture = opts.capture ? new Capture(opts.capture) : null;
  const reader = new TarReader(capture
    ? { entry: (e) => { onEntry(e); return capture.entry(e); }, data: (c) => capture.data(c) }
    : { entry: onEntry }, what);
  const hasher = opts.hashDiffId ? env.sha256() : null;
  const spool = info.compression !== 'none' && opts.spool !== false ? env.spool(what) : null;
  let bytesIn = 0;
  let bytesOut = 0;
  const counted = () => {
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) { bytesIn += chunk.length; ctl.enqueue(chunk); },
    });
    return blob.stream().pipeThrough(counter);
  };
  try {
    let lastReport = 0;
    const sink = async (chunk: Uint8Array) => {
      bytesOut += chunk.length;
      if (!reader.ended) reader.push(chunk);
      hasher?.update(chunk);
      if (spool) await spool.write(chunk);
      if (opts.onProgress && bytesOut - lastReport >= 1 << 20) {
        lastReport = bytesOut;
        opts.onProgress(info.compression === 'none' ? bytesOut : bytesIn, bytesOut);
      }
    };
    let size = 0;
    if (opts.source) {
      for await (const chunk of opts.source) {
        if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
        await sink(chunk);
      }
      size = bytesOut;
    } else if (info.compression === 'none' && !hasher) {
      size = await walkHeaders(blob, reader, opts);
    } else {
      size = await decompressTo(info.compression === 'none' ? () => blob.stream() : counted, info.compression, sink, { signal: opts.signal, what });
    }
    reader.finish();
    opts.onProgress?.(info.compression === 'none' ? size : bytesIn, size);
    const content = spool ? await spool.finish() : info.compression === 'none' ? blob : new Blob([]);
    return { index: info.index, entries, size, content, ...(hasher ? { diffId: hasher.digest() } : {}), ...(capture ? { captured: capture.files } : {}) };
  } catch (e) {
    await spool?.abort();
    // core errors raised inside this layer already name it; anything else gets the layer as context
    throw e instanceof StrataError && e.message.startsWith(what) ? e : wrapError(e, what);
  }
}

/**
 * The entries of an uncompressed layer without reading all of its file data: the Blob is streamed
 * and, past file data longer than SKIP_OVER, the stream is dropped and reopened after it (the
 * content stays where it is, in the Blob). Errors are those of reading the whole stream: a short
 * layer fails in `reader.finish()`.
 */
async function walkHeaders(blob: Blob, reader: TarReader, opts: DecodeOptions): Promise<number> {
  const size = blob.size;
  let pos = 0;
  while (!reader.ended && pos < size) {
    const stream = blob.slice(pos).stream().getReader();
    try {
      for (;;) {
        if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
        const { done, value } = await stream.read();
        if (done) { pos = size; break; }
        reader.push(value);
        pos += value.length;
        opts.onProgress?.(pos, pos);
        if (reader.ended) break;
        const skip = Math.min(reader.skippable(), size - pos);
        if (skip > SKIP_OVER) { reader.skip(skip); pos += skip; break; }
      }
    } finally {
      stream.cancel().catch(() => {});
    }
  }
  return size;
}

/** Collects the content of the entries a CaptureTest asks for, up to CAPTURE_LIMIT per layer. */
class Capture {
  readonly files: CapturedFile[] = [];
  private cur: CapturedFile | null = null;
  private fill = 0;
  private total = 0;

  constructor(private readonly test: CaptureTest) {}

  entry(e: TarEntry): boolean {
    this.cur = null;
    if (e.kind !== 'file' || e.size === 0 || this.total + e.size > CAPTURE_LIMIT) return false;
    const path = tryCleanPath(e.name);
    if (path === null || !this.test('/' + path, e.size)) return false;
    this.cur = { offset: e.dataOffset, bytes: new Uint8Array(e.size) };
    this.fill = 0;
    this.total += e.size;
    this.files.push(this.cur);
    return true;
  }

  data(chunk: Uint8Array): void {
    if (!this.cur) return;
    this.cur.bytes.set(chunk, this.fill);
    this.fill += chunk.length;
  }
}
