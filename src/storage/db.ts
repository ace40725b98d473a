// The IndexedDB handles and the transaction helpers every storage module shares.
// One database per store: idb-keyval's createStore only creates its object store while creating
// the database, so a second store added to an existing database would never come into being.
import { createStore, type UseStore } from 'idb-keyval';
import { StrataError } from '../core/errors.ts';

export const stores = {
  /** image id -> StoredImage */
  images: createStore('strata-images', 'images'),
  /** image id -> StoredTree */
  trees: createStore('strata-trees', 'trees'),
  /** ChunkKey -> Blob (a piece of a layer's decompressed tar stream) */
  content: createStore('strata-content', 'chunks'),
  /**
   * ChunkKey -> Blob (a piece of a compressed layer as the archive shipped it). An import stores
   * compressed layers this way — a copy of the dropped File that no byte of passes through JS —
   * and expansion.ts replaces them with their decompressed streams in `content` after the commit.
   */
  packed: createStore('strata-packed', 'chunks'),
  /**
   * The analysis of each image: [imageId, 'captured', layer] -> CapturedLayer (small files the
   * decoders kept during the import: package databases and the like), [imageId, 'result'] ->
   * StoredAnalysis (computed after the commit, stored as each phase finishes).
   */
  analysis: createStore('strata-analysis', 'analysis'),
};

export type ChunkStore = 'content' | 'packed';

/**
 * [imageId, layer, byte offset of the chunk in the layer stream]. Array keys sort numerically
 * (string keys would put "10" before "2"), so one key range selects an image or a layer in order,
 * and the offset lets readers find a byte without assuming a chunk size.
 */
export type ChunkKey = [imageId: string, layer: number, offset: number];

// In IndexedDB's key order an array sorts after every number, so [id, []] closes a prefix range.
export const imageRange = (id: string) => IDBKeyRange.bound([id], [id, []]);
export const layerRange = (id: string, layer: number) => IDBKeyRange.bound([id, layer], [id, layer, []]);

export const isChunkKey = (k: IDBValidKey): k is ChunkKey =>
  Array.isArray(k) && k.length === 3 && typeof k[0] === 'string';

export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Settles on complete/abort only: on a request's `error` event tx.error is still null, and the
// QuotaExceededError of a failed commit is only known when the transaction aborts.
function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
  });
}

/**
 * Runs `body` in one transaction and resolves once it has committed. If `body` throws, the
 * transaction is aborted so a batch is all-or-nothing. Errors become StrataErrors that say
 * what was being done (`doing`).
 */
export async function inStore<T>(
  store: UseStore, mode: IDBTransactionMode, doing: string,
  body: (store: IDBObjectStore) => T | Promise<T>,
): Promise<T> {
  try {
    return await store(mode, async (os) => {
      const tx = os.transaction;
      const done = finished(tx);
      done.catch(() => {}); // awaited below; this only keeps an early abort from being "unhandled"
      let result: T;
      try {
        result = await body(os);
      } catch (err) {
        abortQuietly(tx);
        // A request fails with AbortError when its transaction aborts; tx.error has the real cause.
        throw tx.error ?? err;
      }
      await done;
      return result;
    });
  } catch (err) {
    throw storageError(err, doing);
  }
}

function abortQuietly(tx: IDBTransaction): void {
  try {
    tx.abort();
  } catch {
    // InvalidStateError: it already aborted or finished, which is all we wanted.
  }
}

export function isQuotaError(err: unknown): boolean {
  const e = err as { name?: string; code?: number } | null;
  // code 22 and NS_ERROR_DOM_QUOTA_REACHED: older Safari and Firefox.
  return !!e && (e.name === 'QuotaExceededError' || e.name === 'NS_ERROR_DOM_QUOTA_REACHED' || e.code === 22);
}

export function storageError(err: unknown, doing: string): StrataError {
  if (err instanceof StrataError) return err;
  if (isQuotaError(err)) {
    return new StrataError('QUOTA_EXCEEDED',
      `${doing}: the browser's storage quota is used up. Delete stored images you no longer need, or free disk space, and try again.`,
      { cause: err });
  }
  const e = err as { name?: string; message?: string } | null;
  const why = (e?.message || e?.name || String(err)).replace(/\.$/, '');
  const hint = typeof indexedDB === 'undefined' ? ' IndexedDB is not available here (private browsing, or not a browser).'
    // Chromium: a Blob whose bytes are gone (the dropped file changed on disk, or the blob store is full).
    : /Failed to write blobs/.test(why) ? ' The browser could not read the data to store; reload the page and import again.'
    : '';
  return new StrataError('STORAGE', `${doing}: ${why}.${hint}`, { cause: err });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
