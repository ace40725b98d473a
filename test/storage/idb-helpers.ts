// Test helpers over fake-indexeddb: key counts per store, wiping every store, and failures a real
// browser produces (quota exhausted, a delete that fails) injected at the IDBObjectStore level.
import { clear, keys } from 'idb-keyval';
import { vi } from 'vitest';
import { stores } from '../../src/storage/db.ts';
import { cleanupOrphans } from '../../src/storage/index.ts';

export async function keyCounts(): Promise<{ images: number; trees: number; content: number }> {
  const [images, trees, content] = await Promise.all([keys(stores.images), keys(stores.trees), keys(stores.content)]);
  return { images: images.length, trees: trees.length, content: content.length };
}

export const contentKeys = () => keys<[string, number, number]>(stores.content);
export const packedKeys = () => keys<[string, number, number]>(stores.packed);

export async function clearAll(): Promise<void> {
  await Promise.all([clear(stores.images), clear(stores.trees), clear(stores.content), clear(stores.packed)]);
}

/**
 * Makes puts into object store `storeName` fail once `budget` bytes of Blobs have been accepted.
 * 'commit': the transaction aborts with a QuotaExceededError, as Chromium reports a full quota at
 * commit (uses fake-indexeddb's internal _abort; no public API aborts with a chosen error).
 * 'throw': put() throws the DOMException synchronously.
 */
export function exhaustQuota(storeName: string, budget: number, how: 'commit' | 'throw') {
  const put = IDBObjectStore.prototype.put;
  let used = 0;
  return vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    const size = value instanceof Blob ? value.size : 1;
    if (this.name === storeName && (used += size) > budget) {
      if (how === 'throw') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      const req = put.call(this, value, key);
      (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
      return req;
    }
    return put.call(this, value, key);
  });
}

/** Makes deletes in object store `storeName` fail (as a broken backing store would). */
export function failDeletes(storeName: string) {
  const del = IDBObjectStore.prototype.delete;
  return vi.spyOn(IDBObjectStore.prototype, 'delete').mockImplementation(function (this: IDBObjectStore, key: IDBValidKey | IDBKeyRange) {
    if (this.name === storeName) throw new DOMException('The backing store failed.', 'UnknownError');
    return del.call(this, key);
  });
}

/** Runs the start-up cleanup and expects it to succeed. */
export async function cleanupAfter(): Promise<void> {
  const report = await cleanupOrphans();
  if (report.failed.length) throw new Error(`cleanup failed: ${JSON.stringify(report.failed)}`);
}
