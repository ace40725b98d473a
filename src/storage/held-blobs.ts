// The Blobs of stored chunks, read out of IndexedDB once per record and held for as long as the
// record lives (per JS context: only the coordinator worker reads chunks).
//
// Why: Chromium kills the whole tab — "Terminating render process for bad Mojo message: Bad blob
// references in BlobRegistry::Register", bad message reason 123 — when a Blob is built (sliced, or
// wrapped in `new Blob([...])`) over a Blob read from IndexedDB whose registration the browser has
// dropped. The browser drops it once every Blob of a read of that record has been released while
// a Blob built over it still lives; a later read of the same record can then hand out a Blob that
// is not registered (crbug.com/392376370 fixed one such path; Chromium 156 still killed the bench's
// libs-go tab this way, in its expansions and digest checks after an export, 2 runs of 3 on
// 2026-12-01). Every reader here slices and wraps stored chunks (a layer is one Blob of its
// chunks), so instead of never building over them we never release them: a record is read once,
// its Blob kept until this context deletes the record, and every later read gets that same Blob.
// While it is held, its registration stays.
//
// A record deleted elsewhere (another tab) is dropped from here the next time its layer's keys
// are listed without it, and a whole image deleted elsewhere the next time the images are listed
// (held Blobs keep their files on disk until they are let go). A key is never written twice with
// other bytes: a layer's chunk at an offset is the layer's stream from that offset, and a rewrite
// with other chunk sizes fails the readers' contiguity check instead of reading stale bytes.
import { type ChunkKey, type ChunkStore, request } from './db.ts';

/** image id -> `${store} ${layer}` -> chunk offset -> its Blob */
const held = new Map<string, Map<string, Map<number, Blob>>>();
const layerKey = (store: ChunkStore, layer: number) => `${store} ${layer}`;

export interface Chunks { keys: ChunkKey[]; blobs: Blob[] }

/**
 * The chunks of `layer` whose offsets lie in [from, to), in order, from an open transaction on
 * `store`: each record's Blob as first read here. Held chunks in that span the store no longer
 * lists are let go.
 */
export async function heldChunks(os: IDBObjectStore, store: ChunkStore, imageId: string, layer: number, from = 0, to = Infinity): Promise<Chunks> {
  const range = IDBKeyRange.bound([imageId, layer, from], to === Infinity ? [imageId, layer, []] : [imageId, layer, to], false, true);
  const keys = await request(os.getAllKeys(range)) as ChunkKey[];
  const k = layerKey(store, layer);
  let mine = held.get(imageId)?.get(k);
  if (mine) {
    const listed = new Set(keys.map((key) => key[2]));
    for (const off of mine.keys()) if (off >= from && off < to && !listed.has(off)) mine.delete(off);
  }
  // one transaction: every read sees the records just listed. None held yet: all in one request.
  const fresh = !mine?.size ? await request(os.getAll(range)) as Blob[] : null;
  const blobs = await Promise.all(keys.map(async (key, i) => {
    const had = mine?.get(key[2]);
    if (had) return had;
    const b = fresh ? fresh[i] : await request(os.get(key)) as Blob;
    if (!(b instanceof Blob)) return b; // damaged: the readers say so
    // the map as it is now: a read of this layer running beside this one may have made it
    const into = (mine = layerMap(imageId, k));
    return into.get(key[2]) ?? (into.set(key[2], b), b);
  }));
  if (mine && !mine.size) forget(imageId, k);
  return { keys, blobs };
}

/** the held chunks of one layer of `imageId`, made empty if there are none */
function layerMap(imageId: string, k: string): Map<number, Blob> {
  let image = held.get(imageId);
  if (!image) held.set(imageId, (image = new Map()));
  let m = image.get(k);
  if (!m) image.set(k, (m = new Map()));
  return m;
}

/** drops one layer's map, and the image's once it is empty */
function forget(imageId: string, k: string): void {
  const image = held.get(imageId);
  if (image?.delete(k) && !image.size) held.delete(imageId);
}

/** Lets go of the held chunks of `imageId` in `store` (of one layer, or all): call once their records are deleted. */
export function releaseChunks(store: ChunkStore, imageId: string, layer?: number): void {
  if (layer !== undefined) forget(imageId, layerKey(store, layer));
  else for (const k of [...held.get(imageId)?.keys() ?? []]) if (k.startsWith(`${store} `)) forget(imageId, k);
}

/** Lets go of the held chunks of every image but `imageIds` (those with a record: others were deleted, maybe by another tab). */
export function releaseAllBut(imageIds: ReadonlySet<string>): void {
  for (const id of [...held.keys()]) if (!imageIds.has(id)) held.delete(id);
}

/** How many chunk Blobs are held (tests). */
export function heldCount(store?: ChunkStore, imageId?: string): number {
  let n = 0;
  for (const [id, image] of held) {
    if (imageId && id !== imageId) continue;
    for (const [k, m] of image) if (!store || k.startsWith(`${store} `)) n += m.size;
  }
  return n;
}
