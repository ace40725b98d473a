// Expanding a packed layer of a committed image: its decompressed stream is written to `content`,
// then one transaction takes the layer off the record's `packed` list (and keeps the compressed
// blob's sha256 for the digest check), then the compressed chunks go. Until that transaction the
// layer counts as packed, so an expansion cut short (tab closed, error, quota) is simply done
// again: it starts by removing what an earlier attempt wrote.
import { StrataError } from '../core/errors.ts';
import type { LayerInfo } from '../core/model.ts';
import { type ChunkStore, formatBytes, inStore, layerRange, request, storageError, stores } from './db.ts';
import { releaseChunks } from './held-blobs.ts';
import { bufferedWriter, ChunkSink, type ContentWriter, putBatch } from './content-writer.ts';
import { packedLayerBlob } from './content-reader.ts';
import { readRecord, type StoredImage } from './images.ts';

export interface Expansion {
  /** for messages: `layer 2 of "name:tag"` */
  readonly what: string;
  /** the layer, as the record has it (its compression; its size from the import) */
  readonly info: LayerInfo;
  /** the layer as shipped (compressed), read back from storage */
  readonly packed: Blob;
  /** takes the decompressed stream, in order */
  readonly writer: ContentWriter;
  /**
   * Takes the next piece of the stream as a Blob the caller made (instead of `writer`): resolves
   * once the piece is queued (at most two batches wait for IndexedDB), so a caller that must not
   * wait for the writes may go on before it resolves.
   */
  add(piece: Blob): Promise<void>;
  /**
   * Closes the writer and records the layer as expanded, with `digest`, the sha256 of `packed`
   * ("sha256:<hex>"), then deletes the packed chunks; resolves with the updated record.
   */
  finish(digest: string): Promise<StoredImage>;
  /** removes what was written (after a failure or cancel); never rejects */
  abort(): Promise<void>;
}

const dropLayer = (store: ChunkStore, imageId: string, layer: number) =>
  inStore(stores[store], 'readwrite', `Deleting the ${store === 'packed' ? 'compressed blob' : 'content'} of layer ${layer} of image ${imageId}`,
    (os) => void os.delete(layerRange(imageId, layer)))
    .then(() => releaseChunks(store, imageId, layer));

/**
 * Starts expanding `layer` of ready image `imageId`; null if it is not packed (already expanded).
 * The caller decompresses `packed` into `writer`, then calls finish (or abort). Hold the layer's
 * expansion lock (locks.ts) around the whole of it. `onStored(n)`: the first n bytes of the
 * stream are stored (readable with readRange) — before the whole layer is.
 */
export async function beginExpansion(imageId: string, layer: number,
  opts: { signal?: AbortSignal; onStored?: (bytes: number) => void } = {}): Promise<Expansion | null> {
  const { signal } = opts;
  const rec = await readRecord(imageId);
  if (rec?.status !== 'ready') throw new StrataError('NOT_FOUND', `No stored image ${imageId}: it was deleted, or its import did not finish.`);
  if (!rec.packed?.includes(layer)) return null;
  const info = rec.layers.find((l) => l.index === layer);
  if (!info) throw new StrataError('NOT_FOUND', `Image ${imageId} has no layer ${layer}.`);
  const name = rec.image.name || rec.source.name;
  const packed = await packedLayerBlob(imageId, layer);
  await dropLayer('content', imageId, layer); // an earlier attempt's partial stream
  const what = `layer ${layer + 1} of "${name}"`;
  const sink = new ChunkSink(imageId, layer, 'content', (part, bytes, batch) =>
    putBatch('content', `Expanding "${name}": writing ${part} (${formatBytes(bytes)})`, batch), opts.onStored);
  const writer = bufferedWriter(sink, what, async () => {
    if (signal?.aborted) throw new StrataError('ABORTED', `Expanding ${what} was cancelled.`);
  }, () => {});
  return {
    what, info, packed, writer,
    async add(piece) {
      if (signal?.aborted) throw new StrataError('ABORTED', `Expanding ${what} was cancelled.`);
      await sink.add(piece);
    },
    async finish(digest) {
      const size = await writer.close();
      const next = await inStore(stores.images, 'readwrite', `Recording ${what} as expanded`, async (os) => {
        const r = await request<StoredImage | undefined>(os.get(imageId));
        if (r?.status !== 'ready') throw new StrataError('ABORTED', `"${name}" was deleted while ${what} was being expanded.`);
        const n: StoredImage = {
          ...r, packed: (r.packed ?? []).filter((l) => l !== layer), digests: { ...r.digests, [layer]: digest },
          totalBytes: r.totalBytes + size - packed.size,
        };
        os.put(n, imageId);
        return n;
      }).catch(async (e: unknown) => {
        await dropLayer('content', imageId, layer).catch(() => {});
        throw e;
      });
      // Not needed any more; if this fails, cleanupOrphans removes it at the next start.
      await dropLayer('packed', imageId, layer).catch(() => {});
      return next;
    },
    async abort() {
      await dropLayer('content', imageId, layer).catch(() => {});
    },
  };
}

/**
 * The message for an expansion that failed: what, why, and what the user can do. `what` names the
 * layer (Expansion.what, or the image id when it failed before starting).
 */
export function expansionError(err: unknown, what: string): StrataError {
  const e = storageError(err, `Expanding ${what}`);
  if (e.code === 'QUOTA_EXCEEDED') {
    return new StrataError('QUOTA_EXCEEDED',
      `${e.message} The layer stays stored compressed and is expanded again when its content is next needed.`, { cause: e.cause ?? err });
  }
  if (e.code === 'ABORTED' || e.code === 'STORAGE' || e.code === 'NOT_FOUND') return e;
  // a decoding error: the import decoded the same bytes, so the stored copy changed since
  return new StrataError(e.code,
    `Expanding ${what} from its stored compressed copy failed: ${e.message.replace(/ The file is damaged;.*$/, '')} The stored copy is damaged; delete the image and import it again.`,
    { cause: e });
}
