import 'fake-indexeddb/auto';
import { get, set, setMany } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { stores } from '../../src/storage/db.ts';
import {
  CHUNK_SIZE, abortImage, beginImage, cleanupOrphans, commitImage, createContentWriter, deleteImage, layerContentBlob,
  listImages, openImage, putTree, readRange, type StoredImage,
} from '../../src/storage/index.ts';
import { clearAll, contentKeys, failDeletes, keyCounts } from './idb-helpers.ts';
import { firstDiff, makeMeta, makeTree, pattern } from './make-image.ts';

beforeEach(clearAll);
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

async function storeImage(name: string, contentBytes = 1000): Promise<string> {
  const id = await beginImage(makeMeta(name));
  const w = createContentWriter(id, 0);
  await w.write(pattern(0, contentBytes));
  await w.close();
  await putTree(id, makeTree(30));
  await commitImage(id);
  return id;
}

/** What a tab closed mid-import leaves: a 'writing' record, its tree, some chunks; no session here. */
async function deadImport(id: string): Promise<void> {
  const record: StoredImage = { ...makeMeta('dead'), id, importedAt: 1, status: 'writing', totalBytes: 0 };
  await set(id, record, stores.images);
  await set(id, { format: 1, tree: makeTree(3) }, stores.trees);
  await setMany([[[id, 0, 0], new Blob(['abc'])], [[id, 0, 3], new Blob(['def'])]], stores.content);
}

describe('abortImage', () => {
  test('mid-import, with a batch still being written, leaves zero keys in every store', async () => {
    const id = await beginImage(makeMeta('partial'));
    await putTree(id, makeTree(100));
    const w = createContentWriter(id, 0);
    // 20 MiB: one 16 MiB batch is handed to IndexedDB and not awaited by write().
    await w.write(new Uint8Array(20 * 1024 * 1024));
    await abortImage(id);
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
    await expect(w.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/"partial" was cancelled/) });
    await expect(w.close()).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(commitImage(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(putTree(id, makeTree(3))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });

  test('right after beginImage leaves zero keys; aborting again is harmless', async () => {
    const id = await beginImage(makeMeta());
    await abortImage(id);
    await abortImage(id);
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });
});

describe('deleteImage', () => {
  test('removes one image and keeps the others readable', async () => {
    const a = await storeImage('a', 3000);
    const b = await storeImage('b', CHUNK_SIZE + 10);
    const c = await storeImage('c', 500);
    await deleteImage(b);
    expect((await listImages()).map((r) => r.id).sort()).toEqual([a, c].sort());
    expect(await keyCounts()).toEqual({ images: 2, trees: 2, content: 2 });
    expect((await contentKeys()).map((k) => k[0]).sort()).toEqual([a, c].sort());
    await expect(openImage(b)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(layerContentBlob(b, 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await openImage(a)).meta.image.name).toBe('a');
    expect(firstDiff(await readRange(c, 0, 0, 500), pattern(0, 500))).toBe(-1);
    expect(firstDiff(await readRange(a, 0, 2990, 10), pattern(2990, 10))).toBe(-1);
  });

  test('of an unknown id changes nothing', async () => {
    const a = await storeImage('a');
    await deleteImage('no-such-id');
    expect((await listImages()).map((r) => r.id)).toEqual([a]);
    expect(await keyCounts()).toEqual({ images: 1, trees: 1, content: 1 });
  });

  test('of an import running here stops it with ABORTED', async () => {
    const id = await beginImage(makeMeta('running'));
    const w = createContentWriter(id, 0);
    await w.write(new Uint8Array(100));
    await deleteImage(id);
    await expect(w.write(new Uint8Array(100))).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });

  test('error: a store that cannot delete → STORAGE naming what is left; the image is unlisted and cleanup finishes the job', async () => {
    const id = await storeImage('stuck');
    const spy = failDeletes('chunks');
    await expect(deleteImage(id)).rejects.toMatchObject({
      code: 'STORAGE', message: expect.stringMatching(/could not delete its content \(.*backing store failed.*\)\. The image is no longer listed/),
    });
    expect(await listImages()).toEqual([]);
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 1 });
    spy.mockRestore();
    expect(await cleanupOrphans()).toEqual({ removed: [id], failed: [] });
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });
});

describe('cleanupOrphans', () => {
  test('removes unfinished images and keys without a record; keeps ready images and imports running here', async () => {
    const ready = await storeImage('ready');
    await deadImport('dead-1');
    await set('tree-only', { format: 1, tree: makeTree(2) }, stores.trees);
    await set(['content-only', 3, 0], new Blob(['x']), stores.content);
    const running = await beginImage(makeMeta('running'));
    await putTree(running, makeTree(5));

    const report = await cleanupOrphans();
    expect(report.failed).toEqual([]);
    expect(report.removed.sort()).toEqual(['content-only', 'dead-1', 'tree-only']);
    expect((await listImages()).map((r) => r.id)).toEqual([ready]);
    expect(await keyCounts()).toEqual({ images: 2, trees: 2, content: 1 });

    await commitImage(running);
    expect((await listImages()).map((r) => r.id).sort()).toEqual([ready, running].sort());
    expect(await cleanupOrphans()).toEqual({ removed: [], failed: [] });
  });

  test('with nothing stored reports nothing', async () => {
    expect(await cleanupOrphans()).toEqual({ removed: [], failed: [] });
  });

  test('error: an orphan that cannot be deleted is reported, the others are removed', async () => {
    await deadImport('dead-1');
    await set('tree-only', { format: 1, tree: makeTree(2) }, stores.trees);
    failDeletes('trees');
    const report = await cleanupOrphans();
    expect(report.removed).toEqual([]);
    expect(report.failed.map((f) => [f.id, f.error.code]).sort()).toEqual([['dead-1', 'STORAGE'], ['tree-only', 'STORAGE']]);
    expect(report.failed[0].error.message).toMatch(/could not delete its tree/);
    expect(await keyCounts()).toEqual({ images: 0, trees: 2, content: 0 });
  });
});

/** A LockManager of one origin, enough for request/query as storage uses them. */
function fakeLocks(onQuery?: () => Promise<void>) {
  const held = new Set<string>();
  const locks = {
    async request(name: string, callback: () => Promise<void>) {
      held.add(name);
      try { return await callback(); } finally { held.delete(name); }
    },
    async query() {
      await onQuery?.();
      return { held: [...held].map((name) => ({ name, mode: 'exclusive' })), pending: [] };
    },
  };
  vi.stubGlobal('navigator', { locks });
  return held;
}

describe('import locks (Web Locks)', () => {
  test('an import holds its lock from beginImage until commit or abort', async () => {
    const held = fakeLocks();
    const a = await beginImage(makeMeta('a'));
    const b = await beginImage(makeMeta('b'));
    expect([...held].sort()).toEqual([`strata-import:${a}`, `strata-import:${b}`].sort());
    await putTree(a, makeTree(3));
    await commitImage(a);
    await abortImage(b);
    await Promise.resolve();
    expect([...held]).toEqual([]);
  });

  test('cleanup leaves an import that another tab is still writing, and removes it once that tab is gone', async () => {
    const held = fakeLocks();
    await deadImport('other-tab');
    held.add('strata-import:other-tab');
    expect(await cleanupOrphans()).toEqual({ removed: [], failed: [] });
    expect(await keyCounts()).toEqual({ images: 1, trees: 1, content: 2 });
    held.delete('strata-import:other-tab');
    expect(await cleanupOrphans()).toEqual({ removed: ['other-tab'], failed: [] });
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });

  test('cleanup keeps an import that another tab commits between the scan and the removal', async () => {
    await deadImport('racing');
    const held = fakeLocks(async () => {
      // The other tab commits and releases its lock just after cleanup listed the stores.
      await set('racing', { ...(await get<StoredImage>('racing', stores.images))!, status: 'ready' }, stores.images);
      held.delete('strata-import:racing');
    });
    expect(await cleanupOrphans()).toEqual({ removed: [], failed: [] });
    expect((await listImages()).map((r) => r.id)).toEqual(['racing']);
    expect(await keyCounts()).toEqual({ images: 1, trees: 1, content: 2 });
  });

  test('error: a lock request the browser refuses → STORAGE, nothing stored', async () => {
    vi.stubGlobal('navigator', { locks: { request: () => Promise.reject(new DOMException('denied', 'SecurityError')) } });
    await expect(beginImage(makeMeta())).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringMatching(/import lock.*denied/) });
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });
});
