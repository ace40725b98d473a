// Reading layer content back: a whole layer as one Blob composed of its chunk Blobs (no bytes pass
// through JS), or a byte range as a Uint8Array; and a packed (still compressed) layer as one Blob.
// Chunk keys carry their offsets, so readers need no chunk size and check that the chunks they use
// are contiguous. Every chunk's Blob comes from held-blobs.ts: read once per record and held, since
// building Blobs over a released and re-read IndexedDB Blob can get the tab killed.
import { StrataError } from '../core/errors.ts';
import { type ChunkKey, type ChunkStore, inStore, request, storageError, stores } from './db.ts';
import { type Chunks, heldChunks } from './held-blobs.ts';

/** Composes chunks starting at stream offset `start` into one Blob, refusing gaps. */
function join({ keys, blobs }: Chunks, start: number, imageId: string, layer: number): Blob {
  let at = start;
  keys.forEach((key, i) => {
    if (key[2] !== at) throw gap(imageId, layer, at);
    at += blobs[i].size;
  });
  return new Blob(blobs);
}

const gap = (imageId: string, layer: number, at: number) =>
  new StrataError('STORAGE', `The stored content of layer ${layer} of image ${imageId} has a gap at byte ${at}. Delete the image and import it again.`);

const notStored = (imageId: string, layer: number, what = 'content') =>
  new StrataError('NOT_FOUND', `Layer ${layer} of image ${imageId} has no stored ${what}; the image may have been deleted.`);

async function wholeLayer(store: ChunkStore, what: string, imageId: string, layer: number): Promise<Blob> {
  const chunks = await inStore(stores[store], 'readonly', `Reading the ${what} of layer ${layer} of image ${imageId}`,
    (os) => heldChunks(os, store, imageId, layer));
  if (!chunks.keys.length) throw notStored(imageId, layer, what);
  return join(chunks, 0, imageId, layer);
}

/** The decompressed stream of `layer` as one Blob (slice it and call .stream() / .arrayBuffer()). */
export const layerContentBlob = (imageId: string, layer: number): Promise<Blob> => wholeLayer('content', 'content', imageId, layer);

/** A layer stored packed (compressed, as the archive shipped it) as one Blob. */
export const packedLayerBlob = (imageId: string, layer: number): Promise<Blob> => wholeLayer('packed', 'compressed blob', imageId, layer);

/** Bytes [offset, offset + length) of the decompressed stream of `layer`. */
export async function readRange(imageId: string, layer: number, offset: number, length: number): Promise<Uint8Array> {
  if (![offset, length].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new RangeError(`readRange: offset and length must be non-negative integers, got ${offset} and ${length}`);
  }
  if (length === 0) return new Uint8Array(0);
  const end = offset + length;
  const doing = `Reading bytes ${offset}–${end - 1} of layer ${layer} of image ${imageId}`;
  const found = await inStore(stores.content, 'readonly', doing, async (os) => {
    // The chunk holding `offset` is the last one starting at or before it.
    const cursor = await request(os.openKeyCursor(IDBKeyRange.bound([imageId, layer], [imageId, layer, offset]), 'prev'));
    if (!cursor) return null;
    const start = (cursor.primaryKey as ChunkKey)[2];
    const [chunks, after] = await Promise.all([
      heldChunks(os, 'content', imageId, layer, start, end),
      // Content stored at or past `end` means a short read below is a gap, not the end of the layer.
      request(os.getKey(IDBKeyRange.bound([imageId, layer, end], [imageId, layer, []]))),
    ]);
    return { start, chunks, continues: after !== undefined };
  });
  if (!found) throw notStored(imageId, layer);
  const { start, chunks, continues } = found;
  const blob = join(chunks, start, imageId, layer);
  if (blob.size < end - start) {
    if (continues) throw gap(imageId, layer, start + blob.size);
    throw new StrataError('NOT_FOUND',
      `${doing}: the stored content ends at byte ${start + blob.size}. The tree and the stored content disagree; delete the image and import it again.`);
  }
  try {
    return new Uint8Array(await blob.slice(offset - start, end - start).arrayBuffer());
  } catch (err) {
    throw storageError(err, doing); // e.g. NotReadableError when the browser lost the blob files
  }
}
