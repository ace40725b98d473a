// A tar export written in order into a TarSink — a Blob (BlobSink), or a download streamed
// through the service worker (download-port.ts). Right after an import the layers are still
// packed: instead of waiting until the expansion has stored every layer decompressed and
// composing the tar from the stored content, each packed layer is inflated once more, straight
// into the tar, in the tar's order — the expansions pause meanwhile (issue 12). The few files a
// layer gives out of the tar's order are kept as the inflate passes them (known beforehand from
// tarContentRefs). Measured on libs-go (1.6 GB, 4 layers): 11.0 s from the click instead of
// 13.4–13.7 s. Stored layers are read ahead in spans (StoredReader).
/// <reference lib="webworker" />
import type { ContentRef, TarRecord } from '../../core/export/tar-export.ts';
import { StrataError } from '../../core/errors.ts';
import type { EncodedTree } from '../../core/model.ts';
import * as storage from '../../storage/index.ts';
import { notStoredYet, stopOf } from './expansion.ts';
import { newJobId, runShared } from './pool.ts';

/** the tar's bytes become a Blob this many at a time */
const WINDOW = 32 << 20;

/** thrown by a cursor asked for bytes behind it that it did not keep: the stored content serves */
const BACKWARDS = Symbol('backwards');

/** a file the tar reads after a later one of its layer: kept as the cursor passes it */
interface Late { offset: number; size: number; buf: Uint8Array<ArrayBuffer> | null; parts: Blob[]; fill: number }

/** late files up to this size are gathered in memory; larger ones as Blobs of each piece's part */
const KEEP_IN_MEMORY = 1 << 20;
/**
 * Past this many late files (or bytes) in a layer, the export waits for the stored content
 * instead: late files are held in memory until the tar reaches them (up to 256 MiB here). A GNU
 * tar written in directory order, not sorted, gives most of its files late: the bench's synthetic
 * image, 14,429 files and 230 MB in one layer, streams in 9.7 s (19.3 s waiting for the stored
 * content; 19 s too when each kept file was a Blob). `files` is changeable for tests.
 */
export const LATE_LIMITS = { files: 65536, bytes: 256 << 20 };

/**
 * One packed layer inflated in order. Files are read at increasing offsets, except the `late`
 * ones (known beforehand): layer tars list paths in their writer's order — `a-b` before `a/x`
 * when sorted as strings, as umoci does — and the tar in ours (`a/x` before `a-b`), so a few files
 * come after ones that follow them in the layer. Their bytes are kept as the cursor passes them.
 */
class LayerCursor {
  private pieces: { chunk: Uint8Array; ack: () => void }[] = [];
  /** stream offset of pieces[0][headAt] */
  private pos = 0;
  private headAt = 0;
  private ended = false;
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  /** late files by offset; `nextLate`: the first the cursor has not passed */
  private nextLate = 0;
  private readonly kept = new Map<number, Uint8Array | Blob>();

  constructor(info: storage.StoredImage['layers'][number], blob: Blob, signal: AbortSignal, private readonly late: Late[]) {
    runShared({ type: 'expand', job: newJobId(), info, blob, hash: false }, signal, (chunk, ack) => {
      this.pieces.push({ chunk, ack });
      this.wake?.();
    }).then(() => { this.ended = true; this.wake?.(); }, (e: unknown) => { this.failure = e; this.wake?.(); });
  }

  private async next(): Promise<void> {
    while (!this.pieces.length) {
      if (this.failure) throw this.failure;
      if (this.ended) throw new StrataError('STORAGE', 'A layer ended before the export had read all of its files. The stored copy is damaged; delete the image and import it again.');
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = null;
    }
  }

  /** Moves past `n` bytes of the head piece (n ≤ what is left of it), keeping late files' bytes. */
  private advance(n: number): Uint8Array {
    const head = this.pieces[0].chunk;
    const bytes = head.subarray(this.headAt, this.headAt + n);
    const from = this.pos, to = from + n;
    for (let j = this.nextLate; j < this.late.length && this.late[j].offset < to; j++) {
      const f = this.late[j];
      const a = Math.max(from, f.offset), b = Math.min(to, f.offset + f.size);
      if (a >= b) continue;
      if (f.size <= KEEP_IN_MEMORY) {
        f.buf ??= new Uint8Array(f.size);
        f.buf.set(bytes.subarray(a - from, b - from), a - f.offset);
      } else f.parts.push(new Blob([bytes.subarray(a - from, b - from) as Uint8Array<ArrayBuffer>]));
      f.fill += b - a;
      if (f.fill === f.size) { this.kept.set(f.offset, f.buf ?? new Blob(f.parts)); f.buf = null; f.parts = []; }
    }
    while (this.nextLate < this.late.length && this.late[this.nextLate].offset + this.late[this.nextLate].size <= to) this.nextLate++;
    this.headAt += n;
    this.pos = to;
    if (this.headAt === head.length) {
      const done = this.pieces.shift()!;
      this.headAt = 0;
      done.ack(); // its buffer goes back to the worker for the next piece (after `bytes` is used)
    }
    return bytes;
  }

  /**
   * Bytes [offset, offset + size): handed to `put` (which copies them at once; a promise it returns
   * is waited for before the next piece), or, for a late file larger than KEEP_IN_MEMORY, its kept
   * copy as a Blob.
   */
  async read(offset: number, size: number, put: (b: Uint8Array) => void | Promise<void>): Promise<Blob | null> {
    if (offset < this.pos) {
      const kept = this.kept.get(offset);
      if (!kept || (kept instanceof Blob ? kept.size : kept.length) !== size) throw BACKWARDS;
      this.kept.delete(offset);
      if (kept instanceof Blob) return kept;
      const room = put(kept); // small ones are kept in memory: a Blob each cost a round trip to read back
      if (room) await room;
      return null;
    }
    while (size > 0) {
      await this.next();
      const left = this.pieces[0].chunk.length - this.headAt;
      if (offset > this.pos) { this.advance(Math.min(left, offset - this.pos)); continue; } // skipped
      const n = Math.min(size, left);
      // copied before the piece's buffer can go back: advance acks only a finished piece, after this
      const head = this.pieces[0];
      const room = put(head.chunk.subarray(this.headAt, this.headAt + n));
      this.advance(n);
      offset += n;
      size -= n;
      if (room) await room;
    }
    return null;
  }

  /** gives every held buffer back (the job ends, or was cancelled) */
  close(): void {
    for (const p of this.pieces.splice(0)) p.ack();
  }
}

/** stored content is read in spans of up to this many bytes (neighbouring files of a layer together) */
export const SPAN = 8 << 20;
/** files this far apart in a layer still share a span (the gap is read and dropped) */
const SPAN_GAP = 64 << 10;
/** spans read ahead of the one the tar is at */
export const SPANS_AHEAD = 3;

interface Span { layer: number; start: number; end: number; bytes: Promise<Uint8Array> | null }

/**
 * Stored content for a streamed export, read ahead: the content refs the tar will read from
 * stored layers, in its order, merged into spans of up to SPAN bytes (a larger file: several),
 * SPANS_AHEAD of them read while the tar takes the current one. A Blob read per file (or a
 * Blob's stream per file) cost a round trip each: on 70k files, slower than saving a composed Blob.
 */
class StoredReader {
  private readonly spans: Span[] = [];
  private cur = 0;

  constructor(refs: Iterable<ContentRef>, stored: Set<number>, private readonly blobOf: (layer: number) => Promise<Blob>) {
    for (const r of refs) {
      if (r.size === 0 || !stored.has(r.layer)) continue;
      let at = r.offset;
      const end = r.offset + r.size;
      const last = this.spans[this.spans.length - 1];
      // the next file of the same layer, close behind the last span and not past its room: extend it
      if (last && last.layer === r.layer && at >= last.end && at - last.end <= SPAN_GAP && last.start + SPAN > at) {
        last.end = Math.min(end, last.start + SPAN);
        at = last.end;
      }
      for (; at < end; at += SPAN) this.spans.push({ layer: r.layer, start: at, end: Math.min(end, at + SPAN), bytes: null });
    }
  }

  private fetch(i: number): void {
    const s = this.spans[i];
    if (s && !s.bytes) {
      s.bytes = this.blobOf(s.layer).then(async (b) => new Uint8Array(await b.slice(s.start, s.end).arrayBuffer()));
      s.bytes.catch(() => {}); // awaited when the tar reaches it
    }
  }

  /** bytes [offset, offset + size) of stored `layer`, handed to `put` in order */
  async read(layer: number, offset: number, size: number, put: (b: Uint8Array) => void | Promise<void>): Promise<void> {
    while (size > 0) {
      // the refs come in the plan's order: spans before the one that holds this ref are done with
      while (this.cur < this.spans.length) {
        const s = this.spans[this.cur];
        if (s.layer === layer && s.start <= offset && offset < s.end) break;
        this.spans[this.cur++].bytes = null;
      }
      const s = this.spans[this.cur];
      if (!s) throw new StrataError('STORAGE', `The export read stored content out of its plan (layer ${layer + 1}, offset ${offset}).`);
      for (let i = this.cur; i <= this.cur + SPANS_AHEAD; i++) this.fetch(i);
      const bytes = await s.bytes!;
      if (bytes.length !== s.end - s.start) throw new StrataError('STORAGE', `The stored content of layer ${layer + 1} is shorter than its tree says (${s.start + bytes.length} of ${s.end} bytes). Delete the image and import it again.`);
      const n = Math.min(size, s.end - offset);
      const room = put(bytes.subarray(offset - s.start, offset - s.start + n));
      if (room) await room;
      offset += n;
      size -= n;
    }
  }
}

/** Where a streamed export's bytes go, in order: a Blob (BlobSink), or a download (download-port.ts). */
export interface TarSink {
  /** copies `b` at once; a returned promise says "wait for it before handing more" */
  put(b: Uint8Array): void | Promise<void>;
  /** a Blob's bytes (a kept late file, a stored layer's slice) */
  blob(b: Blob): Promise<void>;
}

/** The tar as one Blob: its bytes copied into 32 MiB Blobs, kept files and stored slices by reference. */
export class BlobSink implements TarSink {
  private parts: Blob[] = [];
  private buf = new Uint8Array(WINDOW);
  private fill = 0;

  put(b: Uint8Array): void {
    for (let at = 0; at < b.length;) {
      const n = Math.min(b.length - at, WINDOW - this.fill);
      this.buf.set(b.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === WINDOW) this.flush();
    }
  }

  async blob(b: Blob): Promise<void> {
    this.flush();
    this.parts.push(b);
  }

  private flush(): void {
    if (this.fill) { this.parts.push(new Blob([this.buf.subarray(0, this.fill)])); this.fill = 0; }
  }

  result(): Blob {
    this.flush();
    return new Blob(this.parts, { type: 'application/x-tar' });
  }
}

/** Per packed layer, the files the tar reads after a later one of the same layer, by offset. */
function lateFiles(refs: Iterable<ContentRef>, packed: Set<number>): Map<number, Late[]> {
  const reach = new Map<number, number>();
  const late = new Map<number, Late[]>();
  for (const r of refs) {
    if (r.size === 0 || !packed.has(r.layer)) continue;
    const end = reach.get(r.layer) ?? 0;
    if (r.offset < end) {
      let list = late.get(r.layer);
      if (!list) late.set(r.layer, (list = []));
      list.push({ offset: r.offset, size: r.size, buf: null, parts: [], fill: 0 });
    } else reach.set(r.layer, r.offset + r.size);
  }
  for (const list of late.values()) list.sort((a, b) => a.offset - b.offset);
  return late;
}

/**
 * Writes the tar of `records` to `sink`, inflating the still-packed layers it reads into it and
 * reading the stored ones ahead in spans; `refs` are its content references in order (the plan:
 * which files each layer gives late, which spans to read). False, before any byte was written,
 * when no layer with content is packed (unless `storedToo`) or a layer gives too many files
 * late: the caller composes the tar from the stored content instead. Call it inside
 * `holdingExpansions`, so that background expansions hold meanwhile.
 */
export async function streamedTar(imageId: string, tree: EncodedTree, records: Iterable<TarRecord>, refs: Iterable<ContentRef>, sink: TarSink, opts: { storedToo?: boolean } = {}): Promise<boolean> {
  const withContent = new Set<number>();
  for (let i = 0; i < tree.iType.length; i++) if (tree.iSize[i] > 0 && tree.iLayer[i] >= 0) withContent.add(tree.iLayer[i]);
  const packed = await notStoredYet(imageId, withContent);
  if (!packed.size && !opts.storedToo) return false;
  const rec = await storage.readRecord(imageId);
  if (!rec) throw new StrataError('NOT_FOUND', `No stored image ${imageId}: it was deleted.`);
  // the caller holds the expansions (holdingExpansions); one may still finish (its last pieces
  // were made) and drop its packed copy: then that layer is read from its stored content. A packed
  // Blob held here stays readable after its records are deleted.
  const reading = Promise.all([...packed].map(async (l) => {
    try {
      return [l, await storage.packedLayerBlob(imageId, l)] as const;
    } catch (e) {
      if ((e as { code?: string }).code !== 'NOT_FOUND' || (await notStoredYet(imageId, [l])).size) throw e;
      return [l, null] as const; // expanded meanwhile
    }
  }));
  reading.catch(() => {}); // awaited below
  // the plan is made while those records are read (20–50 ms each right after an import)
  const plan = [...refs];
  const blobs = new Map<number, Blob>();
  for (const [l, b] of await reading) {
    if (b) blobs.set(l, b);
    else packed.delete(l);
  }
  const late = lateFiles(plan, packed);
  for (const files of late.values()) {
    if (files.length > LATE_LIMITS.files || files.reduce((n, f) => n + f.size, 0) > LATE_LIMITS.bytes) return false;
  }
  const stop = new AbortController();
  const deleted = stopOf(imageId);
  const onDelete = () => stop.abort();
  deleted.addEventListener('abort', onDelete, { once: true });
  const cursors = new Map<number, LayerCursor>();
  const stored = new Map<number, Blob>();
  const infoOf = (l: number) => {
    const info = rec.layers.find((x) => x.index === l);
    if (!info) throw new StrataError('NOT_FOUND', `Image ${imageId} has no layer ${l}.`);
    return info;
  };
  const cursorOf = (l: number) => {
    let c = cursors.get(l);
    if (!c) cursors.set(l, (c = new LayerCursor(infoOf(l), blobs.get(l)!, stop.signal, late.get(l) ?? [])));
    return c;
  };
  const storedOf = async (l: number) => {
    let b = stored.get(l);
    if (!b) stored.set(l, (b = await storage.layerContentBlob(imageId, l)));
    return b;
  };
  const reader = new StoredReader(plan, new Set([...withContent].filter((l) => !packed.has(l))), storedOf);
  try {
    for (const r of records) {
      if (r instanceof Uint8Array) { const room = sink.put(r); if (room) await room; }
      else if (r.size === 0) continue;
      else if (packed.has(r.layer)) {
        let kept: Blob | null;
        try {
          kept = await cursorOf(r.layer).read(r.offset, r.size, (b) => sink.put(b));
        } catch (e) {
          if (e !== BACKWARDS) throw e;
          // bytes the plan did not keep (a file the tar reads twice): inflate the layer once more up to them
          const again = new LayerCursor(infoOf(r.layer), blobs.get(r.layer)!, stop.signal, []);
          try { kept = await again.read(r.offset, r.size, (b) => sink.put(b)); } finally { again.close(); }
        }
        if (kept) await sink.blob(kept);
      } else await reader.read(r.layer, r.offset, r.size, (b) => sink.put(b));
    }
    return true;
  } catch (e) {
    if (deleted.aborted) throw new StrataError('ABORTED', 'The image was deleted during the export.');
    throw e;
  } finally {
    deleted.removeEventListener('abort', onDelete);
    stop.abort(); // inflates still running (a subtree needs only part of a layer) stop
    for (const c of cursors.values()) c.close();
  }
}
