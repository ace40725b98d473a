// Deleting one image's data from every store (record, tree, content, packed layers, analysis). The record goes first: the image leaves listings at
// once, and if a later delete fails, what remains has no record and cleanupOrphans removes it.
import { StrataError, toErrorInfo } from '../core/errors.ts';
import { imageRange, inStore, request, stores } from './db.ts';
import { releaseChunks } from './held-blobs.ts';
import type { StoredImage } from './images.ts';

/**
 * Deletes the record, tree, content and analysis of image `id`. With `keepIfReady`, an image whose record is
 * 'ready' is left alone (checked in the same transaction that deletes the record) and false returned.
 */
export async function removeImageData(id: string, opts: { keepIfReady?: boolean } = {}): Promise<boolean> {
  const removing = await inStore(stores.images, 'readwrite', `Deleting image ${id}`, async (os) => {
    if (opts.keepIfReady) {
      const rec = await request<StoredImage | undefined>(os.get(id));
      if (rec?.status === 'ready') return false;
    }
    os.delete(id);
    return true;
  });
  if (!removing) return false;
  const parts = ['tree', 'content', 'compressed layers', 'analysis'] as const;
  const results = await Promise.allSettled([
    inStore(stores.trees, 'readwrite', `Deleting the tree of image ${id}`, (os) => void os.delete(id)),
    inStore(stores.content, 'readwrite', `Deleting the content of image ${id}`, (os) => void os.delete(imageRange(id)))
      .then(() => releaseChunks('content', id)),
    inStore(stores.packed, 'readwrite', `Deleting the compressed layers of image ${id}`, (os) => void os.delete(imageRange(id)))
      .then(() => releaseChunks('packed', id)),
    inStore(stores.analysis, 'readwrite', `Deleting the analysis of image ${id}`, (os) => void os.delete(imageRange(id))),
  ]);
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ part: parts[i], reason: r.reason }] : []));
  if (failed.length) {
    const what = failed.map((f) => `its ${f.part} (${toErrorInfo(f.reason).message})`).join(' and ');
    throw new StrataError('STORAGE',
      `Deleting image ${id}: could not delete ${what}. The image is no longer listed; the rest is removed the next time Strata starts.`,
      { cause: failed[0].reason });
  }
  return true;
}
