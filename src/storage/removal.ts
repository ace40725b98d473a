// Removing images: delete/abort by id, and the start-up sweep of whatever an interrupted import
// (error, cancel, closed tab) left behind.
import { type ErrorInfo, StrataError, toErrorInfo } from '../core/errors.ts';
import { inStore, isChunkKey, layerRange, request, stores } from './db.ts';
import { releaseChunks } from './held-blobs.ts';
import type { StoredImage } from './images.ts';
import { importsInProgress } from './locks.ts';
import { removeImageData } from './remove-data.ts';
import { analysisImageIds } from './analysis-store.ts';
import { findSession, sessionIds, stop } from './session.ts';

/**
 * Deletes everything stored under `id`. An import of `id` running here is stopped first: its
 * writes in flight settle, later ones throw ABORTED. Deleting an unknown id does nothing.
 */
export async function deleteImage(id: string): Promise<void> {
  const s = findSession(id);
  if (s) {
    await stop(s, new StrataError('ABORTED', `Storing "${s.name}" was cancelled; its partial data was removed.`));
    if (s.removalError) throw s.removalError;
    return;
  }
  await removeImageData(id);
}

/** What an importer calls on error or cancel: the same as deleteImage. */
export const abortImage = deleteImage;

export interface CleanupReport {
  /** ids whose records, trees or content were removed */
  removed: string[];
  failed: { id: string; error: ErrorInfo }[];
}

/**
 * Deletes every image that is not 'ready' and every tree, content, packed or analysis key without a ready
 * image, except imports still running (here, or in another tab: see locks.ts), and the packed
 * chunks of layers already expanded. Call it at start-up.
 */
export async function cleanupOrphans(): Promise<CleanupReport> {
  const [records, treeIds, chunkKeys, packedKeys, analysed] = await Promise.all([
    inStore(stores.images, 'readonly', 'Listing stored images', (os) => request<StoredImage[]>(os.getAll())),
    inStore(stores.trees, 'readonly', 'Listing stored trees', (os) => request(os.getAllKeys())),
    inStore(stores.content, 'readonly', 'Listing stored content', (os) => request(os.getAllKeys())),
    inStore(stores.packed, 'readonly', 'Listing stored compressed layers', (os) => request(os.getAllKeys())),
    analysisImageIds(),
  ]);
  // Asked after the scan: an import takes its lock before writing anything, so every key seen
  // above that belongs to a running import is covered by a lock still held now. An import that
  // committed meanwhile is kept by keepIfReady.
  const running = new Set([...(await importsInProgress()), ...sessionIds()]);
  const ready = new Set(records.filter((r) => r.status === 'ready').map((r) => r.id));
  const ids = new Set<string>([
    ...records.map((r) => r.id),
    ...treeIds.filter((k): k is string => typeof k === 'string'),
    ...chunkKeys.filter(isChunkKey).map((k) => k[0]),
    ...packedKeys.filter(isChunkKey).map((k) => k[0]),
    ...analysed,
  ]);
  const orphans = [...ids].filter((id) => !ready.has(id) && !running.has(id));
  const results = await Promise.allSettled(orphans.map((id) => removeImageData(id, { keepIfReady: true })));
  const report: CleanupReport = { removed: [], failed: [] };
  results.forEach((r, i) => {
    if (r.status === 'rejected') report.failed.push({ id: orphans[i], error: toErrorInfo(r.reason) });
    else if (r.value) report.removed.push(orphans[i]);
  });
  // Compressed chunks of a layer a ready image no longer lists as packed: an expansion recorded
  // the layer as expanded and stopped before deleting them (expansion.ts). Its content is stored.
  const keep = new Map(records.filter((r) => r.status === 'ready').map((r) => [r.id, new Set(r.packed ?? [])]));
  const stale = new Map<string, [string, number]>();
  for (const k of packedKeys.filter(isChunkKey)) {
    if (keep.get(k[0])?.has(k[1]) === false) stale.set(`${k[0]}\n${k[1]}`, [k[0], k[1]]);
  }
  for (const [id, layer] of stale.values()) {
    await inStore(stores.packed, 'readwrite', `Deleting the compressed blob of expanded layer ${layer} of image ${id}`,
      (os) => void os.delete(layerRange(id, layer)))
      .then(() => { releaseChunks('packed', id, layer); if (!report.removed.includes(id)) report.removed.push(id); })
      .catch((e: unknown) => report.failed.push({ id, error: toErrorInfo(e) }));
  }
  return report;
}
