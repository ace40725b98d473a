// The browser's storage quota and persistence, for the UI's "space used / available" line and its
// "keep my images" request. Both are absent in Node and in insecure contexts.
import { storageError } from './db.ts';

interface StorageLike {
  estimate?(): Promise<StorageEstimate>;
  /** Window only: workers have no persist() */
  persist?(): Promise<boolean>;
}

function storageManager(): StorageLike | undefined {
  return typeof navigator === 'undefined' ? undefined : (navigator.storage as StorageLike | undefined);
}

export interface StorageInfo { usage: number; quota: number }

/** Bytes used and allowed for this origin, or null where the browser cannot tell. */
export async function storageEstimate(): Promise<StorageInfo | null> {
  const storage = storageManager();
  if (typeof storage?.estimate !== 'function') return null;
  try {
    const { usage = 0, quota = 0 } = await storage.estimate();
    return { usage, quota };
  } catch (err) {
    throw storageError(err, 'Asking the browser how much storage is available');
  }
}

/**
 * Asks the browser not to evict stored images under storage pressure. 'best-effort' means it
 * declined (Chromium decides by engagement, Firefox asks the user). Call it from the page, not a worker.
 */
export async function requestPersistence(): Promise<'persisted' | 'best-effort' | 'unsupported'> {
  const storage = storageManager();
  if (typeof storage?.persist !== 'function') return 'unsupported';
  try {
    return (await storage.persist()) ? 'persisted' : 'best-effort';
  } catch (err) {
    throw storageError(err, 'Asking the browser to keep stored images');
  }
}
