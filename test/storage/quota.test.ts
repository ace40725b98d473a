import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  beginImage, commitImage, createContentWriter, listImages, openImage, putTree, readRange, requestPersistence,
  storageEstimate, storeLayerBlob,
} from '../../src/storage/index.ts';
import { clearAll, cleanupAfter, exhaustQuota, failDeletes, keyCounts } from './idb-helpers.ts';
import { firstDiff, makeMeta, makeTree, pattern } from './make-image.ts';

beforeEach(clearAll);
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const MiB = 1024 * 1024;

async function storeImage(name: string): Promise<string> {
  const id = await beginImage(makeMeta(name));
  await storeLayerBlob(id, 0, new Blob([pattern(0, 5000)]));
  await putTree(id, makeTree(30));
  await commitImage(id);
  return id;
}

/** Writes `total` bytes in 1 MiB pieces, then closes: the whole content of one layer. */
async function writeLayer(id: string, total: number): Promise<number> {
  const w = createContentWriter(id, 0);
  for (let at = 0; at < total; at += MiB) await w.write(new Uint8Array(Math.min(MiB, total - at)));
  return w.close();
}

async function expectEarlierImageIntact(id: string) {
  expect((await listImages()).map((r) => r.id)).toEqual([id]);
  expect((await openImage(id)).tree.nodeCount).toBe(30);
  expect(firstDiff(await readRange(id, 0, 4990, 10), pattern(4990, 10))).toBe(-1);
  expect(await keyCounts()).toEqual({ images: 1, trees: 1, content: 1 });
}

describe.each(['commit', 'throw'] as const)('quota exhausted (reported at %s)', (how) => {
  test('while writing layer content → QUOTA_EXCEEDED naming the batch; partial image removed, earlier image intact', async () => {
    const earlier = await storeImage('earlier');
    const id = await beginImage(makeMeta('big:latest'));
    exhaustQuota('chunks', 20 * MiB, how);
    const err = await writeLayer(id, 40 * MiB).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ name: 'StrataError', code: 'QUOTA_EXCEEDED' });
    const message = (err as Error).message;
    // The second 16 MiB batch crosses the 20 MiB budget; the first one had been stored.
    expect(message).toContain(`Storing "big:latest" ran out of browser storage while writing layer 1 content, bytes ${16 * MiB}–${32 * MiB - 1} (16.0 MiB; 16.0 MiB of this image were stored before)`);
    expect(message).toMatch(/partial image was removed; images stored earlier are intact\. Delete stored images/);
    vi.restoreAllMocks();
    await expectEarlierImageIntact(earlier);
    // The import is over: further writes get the same error, commit finds no import.
    await expect(putTree(id, makeTree(3))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(commitImage(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('while storing a layer Blob → QUOTA_EXCEEDED; partial image removed', async () => {
    const earlier = await storeImage('earlier');
    const id = await beginImage(makeMeta('blob'));
    exhaustQuota('chunks', 0, how);
    await expect(storeLayerBlob(id, 0, new Blob([new Uint8Array(3 * MiB)]))).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/while writing layer 1 content, bytes 0–3145727 \(3\.0 MiB; 0 B /),
    });
    vi.restoreAllMocks();
    await expectEarlierImageIntact(earlier);
  });

  test('while writing the tree → QUOTA_EXCEEDED naming the tree; content written before removed', async () => {
    const earlier = await storeImage('earlier');
    const id = await beginImage(makeMeta('t'));
    await writeLayer(id, 3 * MiB);
    exhaustQuota('trees', 0, how);
    await expect(putTree(id, makeTree(100))).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/while writing the file tree \(\d+\.\d KiB; 3\.0 MiB of this image were stored before\)/),
    });
    vi.restoreAllMocks();
    await expectEarlierImageIntact(earlier);
  });

  test('while writing the image record → QUOTA_EXCEEDED, nothing stored', async () => {
    exhaustQuota('images', 0, how);
    await expect(beginImage(makeMeta('r'))).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/while writing the image record/),
    });
    expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  });
});

test('error: quota exhausted and the cleanup fails too → QUOTA_EXCEEDED saying so; the next cleanup finishes', async () => {
  const id = await beginImage(makeMeta('double'));
  exhaustQuota('chunks', 20 * MiB, 'commit');
  failDeletes('chunks');
  await expect(writeLayer(id, 40 * MiB)).rejects.toMatchObject({
    code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/Removing the partial data also failed; it is removed the next time Strata starts\.$/),
  });
  vi.restoreAllMocks();
  expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 4 });
  await cleanupAfter();
  expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
});

test('error: any other failed write → STORAGE with the cause; partial image removed', async () => {
  const earlier = await storeImage('earlier');
  const id = await beginImage(makeMeta('broken'));
  const put = IDBObjectStore.prototype.put;
  vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, v: unknown, k?: IDBValidKey) {
    if (this.name === 'chunks') throw new DOMException('Disk I/O error.', 'UnknownError');
    return put.call(this, v, k);
  });
  await expect(writeLayer(id, 20 * MiB)).rejects.toMatchObject({
    code: 'STORAGE', message: expect.stringMatching(/^Storing layer 1 content, bytes 0–16777215 of image .* \(16\.0 MiB\): Disk I\/O error\. The partial image was removed\.$/),
  });
  vi.restoreAllMocks();
  await expectEarlierImageIntact(earlier);
});

describe('storageEstimate and requestPersistence', () => {
  test('without navigator.storage (Node, insecure pages, workers for persist) → null / unsupported', async () => {
    vi.stubGlobal('navigator', undefined);
    expect(await storageEstimate()).toBeNull();
    expect(await requestPersistence()).toBe('unsupported');
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 1 }) } });
    expect(await requestPersistence()).toBe('unsupported');
  });

  test('pass on what the browser says', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 1500, quota: 10_000 }), persist: async () => true } });
    expect(await storageEstimate()).toEqual({ usage: 1500, quota: 10_000 });
    expect(await requestPersistence()).toBe('persisted');
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({}), persist: async () => false } });
    expect(await storageEstimate()).toEqual({ usage: 0, quota: 0 });
    expect(await requestPersistence()).toBe('best-effort');
  });

  test('error: the browser rejecting → STORAGE', async () => {
    const fail = async () => { throw new DOMException('nope', 'InvalidStateError'); };
    vi.stubGlobal('navigator', { storage: { estimate: fail, persist: fail } });
    await expect(storageEstimate()).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringMatching(/how much storage.*nope/) });
    await expect(requestPersistence()).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringMatching(/keep stored images: nope/) });
  });
});

test('error: no IndexedDB at all → STORAGE saying so', async () => {
  vi.resetModules();
  vi.stubGlobal('indexedDB', undefined);
  const storage = await import('../../src/storage/index.ts');
  await expect(storage.listImages()).rejects.toMatchObject({
    name: 'StrataError', code: 'STORAGE', message: expect.stringMatching(/^Listing stored images: .*IndexedDB is not available here/),
  });
});
