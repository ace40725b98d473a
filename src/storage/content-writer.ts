// Layer bytes into IndexedDB as Blob chunks of CHUNK_SIZE under [imageId, layer, offset], a batch
// of chunks per transaction: the decompressed tar stream of a layer (store `content`), or a
// compressed layer as shipped (store `packed`, see db.ts and expansion.ts).
import { StrataError } from '../core/errors.ts';
import { type ChunkKey, type ChunkStore, formatBytes, inStore, stores } from './db.ts';
import { type Session, session, throwStopped, track } from './session.ts';

const MiB = 1024 * 1024;
/** See the storage benchmark (test/storage/storage-bench.ts) for the numbers behind both sizes. */
export const CHUNK_SIZE = 4 * MiB;
/** Bytes per transaction: a transaction per chunk wrote ~1.5x slower in that benchmark. */
export const BATCH_BYTES = 16 * MiB;
/**
 * A Blob the import already has (a slice of the dropped File, a downloaded layer) is stored in
 * slices this big, each its own put and transaction. Chromium copies each put's Blob into a file
 * of its own: text-go's 78 MB layer took 39–185 ms of wall and 9–20 ms of the worker's thread as
 * 4 MiB chunks, 3–29 ms and ≤ 1 ms as one put (.bench probe, Chromium 156) — and the import does
 * this for every layer while its decodes run. Readers need no chunk size (content-reader.ts).
 */
export const BLOB_SLICE = 256 * MiB;

/** Writes one batch of chunks; `what` names them for messages. */
export type BatchWrite = (what: string, bytes: number, batch: [ChunkKey, Blob][]) => Promise<void>;

/** Puts a batch into `store` in one transaction. */
export const putBatch = (store: ChunkStore, doing: string, batch: [ChunkKey, Blob][]) =>
  inStore(stores[store], 'readwrite', doing, (os) => {
    for (const [key, blob] of batch) os.put(blob, key);
  });

/** Collects chunk Blobs of one layer and writes them in batches, at most one batch in flight. */
export class ChunkSink {
  #batch: [ChunkKey, Blob][] = [];
  #batchBytes = 0;
  #inflight: Promise<void> = Promise.resolve();
  /** stream offset of the next chunk */
  offset = 0;

  /** `onStored` is told how many bytes from the start of the stream are stored, after each batch */
  constructor(readonly imageId: string, readonly layer: number, readonly label: string, readonly write: BatchWrite,
    readonly onStored?: (bytes: number) => void) {}

  async add(chunk: Blob): Promise<void> {
    this.#batch.push([[this.imageId, this.layer, this.offset], chunk]);
    this.offset += chunk.size;
    this.#batchBytes += chunk.size;
    if (this.#batchBytes >= BATCH_BYTES) await this.#flush();
  }

  /** Writes what is left; resolves with the layer's size once every chunk is stored. */
  async finish(): Promise<number> {
    // An empty layer still gets one (empty) chunk, so "stored and empty" differs from "not stored".
    if (this.offset === 0 && !this.#batch.length) await this.add(new Blob([]));
    await this.#flush();
    await this.#inflight;
    return this.offset;
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    // Waiting for the previous batch here (not for this one) lets the caller decode the next batch
    // while this one is written, and bounds memory to two batches.
    await this.#inflight;
    if (!batch.length) return;
    const first = batch[0][0][2];
    // 1-based, as the app numbers layers: these messages reach the user (e.g. a full quota)
    this.#inflight = this.write(`layer ${this.layer + 1} ${this.label}, bytes ${first}–${first + bytes - 1}`, bytes, batch)
      .then(() => this.onStored?.(first + bytes)); // batches are written one after another, in order
    this.#inflight.catch(() => {}); // surfaced by the next add/finish; this only avoids "unhandled"
  }
}

/** A batch writer of an import: every write is tracked by its session (see session.ts). */
function sessionWrite(s: Session, store: ChunkStore): BatchWrite {
  return (what, bytes, batch) =>
    track(s, what, bytes, () => putBatch(store, `Storing ${what} of image ${s.id} (${formatBytes(bytes)})`, batch))
      .then(() => { s.contentBytes += bytes; });
}

function claimLayer(s: Session, layer: number, store: ChunkStore): void {
  if (!Number.isInteger(layer) || layer < 0) throw new RangeError(`layer must be a non-negative integer, got ${layer}`);
  const claims = store === 'packed' ? s.packed : s.layers;
  if (claims.has(layer)) {
    throw new StrataError('STORAGE', `The ${store === 'packed' ? 'compressed blob' : 'content'} of layer ${layer} of "${s.name}" is already stored or being stored; each layer is stored once.`);
  }
  claims.add(layer);
  s.open.add(layer);
}

export interface ContentWriter {
  /** bytes accepted so far */
  readonly size: number;
  /** Accepts a piece of any size; its bytes are copied, so the caller may reuse the buffer. Await each call before the next. */
  write(piece: Uint8Array): Promise<void>;
  /** Stores what is buffered; resolves with the layer's size once all of it is stored. */
  close(): Promise<number>;
}

/**
 * A ContentWriter over `sink`: pieces are copied into chunk-sized buffers and each full buffer
 * becomes a Blob. `check` runs before every call (it throws to refuse), `closed` after close.
 */
export function bufferedWriter(sink: ChunkSink, what: string, check: () => Promise<void>, closed: () => void): ContentWriter {
  // One extra memcpy per piece, cheap next to the IndexedDB write, and it never keeps the caller's views.
  // A NEW buffer per chunk, on purpose: V8 counts ArrayBuffer memory toward starting a GC but not
  // Blob memory, and a stored chunk Blob's bytes stay in the browser's blob store until its wrapper
  // is collected. With one reused buffer nothing prompted a GC: in headless Chromium 156, ~0.5 GB of
  // dead chunk Blobs piled up and every later write failed with "Failed to write blobs (InvalidBlob)"
  // (test/storage/chromium.test.ts keeps it from coming back).
  let buf: Uint8Array<ArrayBuffer> | null = null;
  let fill = 0;
  let busy = false;
  let done = false;
  let size = 0;

  const emit = async () => {
    const chunk = new Blob([buf!.subarray(0, fill)]);
    buf = null;
    fill = 0;
    await sink.add(chunk);
  };
  const enter = async () => {
    if (done) throw new StrataError('STORAGE', `The content writer of ${what} is closed.`);
    if (busy) throw new StrataError('STORAGE', `Content writer of ${what}: a write was started before the previous one finished; await each write.`);
    busy = true;
    try {
      await check();
    } catch (e) {
      busy = false;
      throw e;
    }
  };

  return {
    get size() { return size; },
    async write(piece) {
      await enter();
      try {
        for (let p = 0; p < piece.length;) {
          const n = Math.min(CHUNK_SIZE - fill, piece.length - p);
          buf ??= new Uint8Array(CHUNK_SIZE);
          buf.set(piece.subarray(p, p + n), fill);
          fill += n;
          p += n;
          size += n;
          if (fill === CHUNK_SIZE) await emit();
        }
      } finally {
        busy = false;
      }
    },
    async close() {
      await enter();
      try {
        if (fill) await emit();
        return await sink.finish();
      } finally {
        done = true;
        buf = null;
        busy = false;
        closed();
      }
    },
  };
}

/** A writer for the decompressed stream of `layer` of an image begun with beginImage. */
export function createContentWriter(imageId: string, layer: number): ContentWriter {
  const s = session(imageId);
  claimLayer(s, layer, 'content');
  const sink = new ChunkSink(imageId, layer, 'content', sessionWrite(s, 'content'));
  return bufferedWriter(sink, `layer ${layer} of "${s.name}"`,
    async () => { if (s.stopped) await throwStopped(s); },
    () => s.open.delete(layer));
}

/**
 * Stores a Blob as `layer` of an image being imported, copied into storage as slices of `slice`
 * bytes (BLOB_SLICE: the File may be gone after a reload, and slices keep each transaction
 * bounded): an uncompressed layer sliced from the dropped File as its content, or with `packed` a
 * compressed layer as shipped, which commitImage records as still to be expanded. Resolves with
 * the stored size.
 */
export async function storeLayerBlob(imageId: string, layer: number, blob: Blob, opts: { packed?: boolean; slice?: number } = {}): Promise<number> {
  const slice = opts.slice ?? BLOB_SLICE;
  const s = session(imageId);
  const store: ChunkStore = opts.packed ? 'packed' : 'content';
  claimLayer(s, layer, store);
  try {
    const sink = new ChunkSink(imageId, layer, opts.packed ? 'compressed blob' : 'content', sessionWrite(s, store));
    for (let o = 0; o < blob.size; o += slice) await sink.add(blob.slice(o, o + slice));
    return await sink.finish();
  } finally {
    s.open.delete(layer);
  }
}
