// Image records: begin (status 'writing'), commit ('ready', written last), list, open, and the
// verify status updated after the import. Only 'ready' images are visible.
import { StrataError } from '../core/errors.ts';
import type { EncodedTree, ImageMeta, LayerVerify } from '../core/model.ts';
import { inStore, request, storageError, stores } from './db.ts';
import { releaseAllBut } from './held-blobs.ts';
import { holdImportLock } from './locks.ts';
import { finishSession, type Session, session, startSession, track } from './session.ts';
import { readTree } from './tree-store.ts';

export interface StoredImage extends ImageMeta {
  id: string;
  /** ms since the epoch, when the import began */
  importedAt: number;
  status: 'writing' | 'ready';
  /** bytes the image occupies in storage: layer content plus the encoded tree */
  totalBytes: number;
  /**
   * Layers still stored compressed, as the archive shipped them (store `packed`): their content
   * is expanded after the commit (expansion.ts). Absent or empty once every layer is expanded.
   */
  packed?: number[];
  /**
   * sha256 ("sha256:<hex>") of each expanded layer's compressed blob, taken while expanding it —
   * the blob itself is not kept — for the digest check, which may run after a reload.
   */
  digests?: Record<number, string>;
}

// getRandomValues, not randomUUID: the latter needs a secure context (a LAN IP over http is not).
function newImageId(): string {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${Date.now().toString(36)}-${rand}`;
}

/** Starts storing an image: writes its record as 'writing' (so cleanup can find it) and returns its id. */
export async function beginImage(meta: ImageMeta): Promise<string> {
  const id = newImageId();
  const release = await holdImportLock(id).catch((err) => {
    throw storageError(err, `Taking the import lock of image ${id}`);
  });
  const s = startSession(id, meta.image.name || meta.source.name, release);
  const record: StoredImage = { ...meta, id, importedAt: Date.now(), status: 'writing', totalBytes: 0 };
  await track(s, 'the image record', 0, () =>
    inStore(stores.images, 'readwrite', `Storing the record of image ${id}`, (os) => void os.put(record, id)));
  return id;
}

/** Marks the image 'ready' once its tree is stored and every content writer is closed. */
export async function commitImage(id: string): Promise<StoredImage> {
  const s = session(id);
  if (s.open.size) {
    throw new StrataError('STORAGE',
      `Cannot finish storing "${s.name}": the content of layer ${[...s.open].join(', ')} is still being written; close its ContentWriter (or await storeLayerBlob) first.`);
  }
  if (!s.hasTree) {
    throw new StrataError('STORAGE', `Cannot finish storing "${s.name}": its tree was not stored; call putTree first.`);
  }
  const packed = [...s.packed].sort((a, b) => a - b);
  const ready = await rewriteRecord(s, 'the ready mark', (rec) => ({ ...rec, status: 'ready', totalBytes: s.contentBytes + s.treeBytes, ...(packed.length ? { packed } : {}) }));
  finishSession(s, new StrataError('STORAGE', `"${s.name}" is already stored; an import takes no writes after commitImage.`));
  return ready;
}

/**
 * Replaces the metadata of an image still being imported: layer sizes and change counts are
 * known only after decoding, which runs after beginImage.
 */
export async function updateImageMeta(id: string, meta: ImageMeta): Promise<void> {
  const s = session(id);
  await rewriteRecord(s, 'the image record', (rec) => ({ ...meta, id, importedAt: rec.importedAt, status: 'writing', totalBytes: 0 }));
}

/** Rewrites the 'writing' record of an import in one transaction; ABORTED if it is gone. */
function rewriteRecord(s: Session, what: string, change: (rec: StoredImage) => StoredImage): Promise<StoredImage> {
  return track(s, what, 0, () =>
    inStore(stores.images, 'readwrite', `Storing ${what} of image ${s.id}`, async (os) => {
      const rec = await request<StoredImage | undefined>(os.get(s.id));
      // Deleted by another tab (or its start-up cleanup) while we were writing.
      if (rec?.status !== 'writing') throw new StrataError('ABORTED', `"${s.name}" was deleted while it was being stored.`);
      const next = change(rec);
      os.put(next, s.id);
      return next;
    }));
}

/** Ready images, newest first. */
export async function listImages(): Promise<StoredImage[]> {
  const all = await inStore(stores.images, 'readonly', 'Listing stored images', (os) => request<StoredImage[]>(os.getAll()));
  releaseAllBut(new Set(all.map((r) => r.id))); // images deleted by another tab
  return all.filter((r) => r.status === 'ready').sort((a, b) => b.importedAt - a.importedAt);
}

export async function openImage(id: string, known?: EncodedTree): Promise<{ meta: StoredImage; tree: EncodedTree }> {
  const [meta, tree] = await Promise.all([
    readRecord(id),
    known ?? readTree(id), // the caller's copy of the stored tree (the coordinator keeps the last one)
  ]);
  if (meta?.status !== 'ready') {
    throw new StrataError('NOT_FOUND', `No stored image ${id}: it was deleted, or its import did not finish.`);
  }
  if (!tree) {
    throw new StrataError('STORAGE', `The tree of "${meta.image.name}" is missing from storage. Delete the image and import it again.`);
  }
  return { meta, tree };
}

/** The record of image `id` whatever its status, or undefined. */
export function readRecord(id: string): Promise<StoredImage | undefined> {
  return inStore(stores.images, 'readonly', `Reading image ${id}`, (os) => request<StoredImage | undefined>(os.get(id)));
}

/** Records the verify result of one layer, e.g. when hashing finishes after the import. */
export async function setVerify(id: string, layerIndex: number, verify: LayerVerify): Promise<void> {
  await inStore(stores.images, 'readwrite', `Saving the verify status of layer ${layerIndex} of image ${id}`, async (os) => {
    const rec = await request<StoredImage | undefined>(os.get(id));
    if (!rec) throw new StrataError('NOT_FOUND', `No stored image ${id}; it may have been deleted.`);
    const layer = rec.layers.find((l) => l.index === layerIndex);
    if (!layer) throw new StrataError('NOT_FOUND', `Image "${rec.image.name}" has no layer ${layerIndex}.`);
    layer.verify = { ...verify };
    os.put(rec, id);
  });
}
