import 'fake-indexeddb/auto';
import { del, get, set } from 'idb-keyval';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { EncodedTree } from '../../src/core/model.ts';
import { stores } from '../../src/storage/db.ts';
import {
  beginImage, commitImage, createContentWriter, deleteImage, listImages, openImage, putTree, setVerify, type StoredImage,
  updateImageMeta,
} from '../../src/storage/index.ts';
import { clearAll, keyCounts } from './idb-helpers.ts';
import { firstDiff, makeMeta, makeTree } from './make-image.ts';

beforeEach(clearAll);
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const treeBytes = (t: EncodedTree) =>
  Object.values(t).reduce((n, v) => n + (ArrayBuffer.isView(v) ? v.byteLength : 0), 0) +
  t.xattrs.reduce((n, x) => n + x.value.byteLength, 0);

async function storeImage(name: string): Promise<string> {
  const id = await beginImage(makeMeta(name));
  await putTree(id, makeTree(50));
  await commitImage(id);
  return id;
}

test('meta and tree round trip with the same typed array types and values', async () => {
  const meta = makeMeta('alpine:3.19');
  const tree = makeTree(1000);
  const id = await beginImage(meta);
  await putTree(id, tree);
  const committed = await commitImage(id);
  expect(committed.totalBytes).toBe(treeBytes(tree));
  expect(committed.totalBytes).toBeGreaterThan(40_000);

  const opened = await openImage(id);
  expect(opened.meta).toEqual({ ...meta, id, importedAt: committed.importedAt, status: 'ready', totalBytes: committed.totalBytes });
  expect(opened.tree).toEqual(tree);
  for (const [key, value] of Object.entries(tree)) {
    expect((opened.tree as unknown as Record<string, unknown>)[key]?.constructor, key).toBe(value.constructor);
  }
  expect(opened.tree.parent[999]).toBe(tree.parent[999]);
  expect(opened.tree.xattrs[0].value).toEqual(Uint8Array.of(1, 2, 3));
});

test('a 100k-node tree round-trips column by column', async () => {
  const tree = makeTree(100_000);
  const t0 = performance.now();
  const id = await beginImage(makeMeta('big'));
  await putTree(id, tree);
  await commitImage(id);
  const t1 = performance.now();
  const { tree: back } = await openImage(id);
  const t2 = performance.now();
  console.log(`[fake-indexeddb] 100k-node tree: write ${(t1 - t0).toFixed(0)} ms, read ${(t2 - t1).toFixed(0)} ms`);
  const got = back as unknown as Record<string, unknown>;
  const differing = Object.entries(tree).filter(([k, v]) =>
    ArrayBuffer.isView(v) ? got[k]?.constructor !== v.constructor || firstDiff(got[k] as ArrayBufferView, v) !== -1 : false);
  expect(differing.map(([k]) => k)).toEqual([]);
  expect(back.nodeCount).toBe(100_000);
  expect(back.nameBytes.length).toBe(tree.nameBytes.length);
});

test('stores copies: a column that is a view stores only its own bytes, and later changes do not leak in', async () => {
  const tree = makeTree(100);
  const big = new Int32Array(10_000);
  const view = big.subarray(5_000, 5_100);
  view.set(tree.parent);
  const id = await beginImage(makeMeta());
  await putTree(id, { ...tree, parent: view });
  view[1] = 12345;
  await commitImage(id);
  const { tree: back } = await openImage(id);
  expect(back.parent.buffer.byteLength).toBe(400);
  expect(back.parent[1]).toBe(tree.parent[1]);
  expect(back.parent[1]).not.toBe(12345);
});

test('an image is listed and openable only after commitImage', async () => {
  const id = await beginImage(makeMeta('busybox'));
  await putTree(id, makeTree(10));
  expect(await keyCounts()).toEqual({ images: 1, trees: 1, content: 0 });
  expect(await listImages()).toEqual([]);
  await expect(openImage(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await commitImage(id);
  const listed = await listImages();
  expect(listed.map((r) => [r.id, r.status, r.image.name])).toEqual([[id, 'ready', 'busybox']]);
});

test('listImages returns the newest first', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1_000_000);
  const a = await storeImage('a');
  vi.setSystemTime(3_000_000);
  const c = await storeImage('c');
  vi.setSystemTime(2_000_000);
  const b = await storeImage('b');
  const listed = await listImages();
  expect(listed.map((r) => r.id)).toEqual([c, b, a]);
  expect(listed.map((r) => r.importedAt)).toEqual([3_000_000, 2_000_000, 1_000_000]);
});

test('setVerify updates one layer of a stored image and keeps the others', async () => {
  const id = await storeImage('v');
  await setVerify(id, 1, { state: 'mismatch', detail: 'sha256:aa != sha256:bb' });
  const { meta } = await openImage(id);
  expect(meta.layers.map((l) => l.verify)).toEqual([
    { state: 'pending' }, { state: 'mismatch', detail: 'sha256:aa != sha256:bb' }, { state: 'pending' },
  ]);
});

test('setVerify also works while the image is still being written', async () => {
  const id = await beginImage(makeMeta());
  await setVerify(id, 0, { state: 'verified' });
  await putTree(id, makeTree(5));
  const done = await commitImage(id);
  expect(done.layers[0].verify).toEqual({ state: 'verified' });
});

test.each([
  { name: 'putTree of an image never begun', code: 'NOT_FOUND', run: () => putTree('nope', makeTree(3)) },
  { name: 'commitImage of an image never begun', code: 'NOT_FOUND', run: () => commitImage('nope') },
  { name: 'openImage of an unknown id', code: 'NOT_FOUND', run: () => openImage('nope') },
  { name: 'setVerify of an unknown image', code: 'NOT_FOUND', run: () => setVerify('nope', 0, { state: 'verified' }) },
  {
    name: 'setVerify of a layer the image lacks', code: 'NOT_FOUND', message: /has no layer 7/,
    run: async () => setVerify(await storeImage('x'), 7, { state: 'verified' }),
  },
  {
    name: 'commitImage before putTree', code: 'STORAGE', message: /call putTree first/,
    run: async () => commitImage(await beginImage(makeMeta())),
  },
  {
    name: 'commitImage with a content writer still open', code: 'STORAGE', message: /layer 2 is still being written/,
    run: async () => {
      const id = await beginImage(makeMeta());
      await putTree(id, makeTree(3));
      await createContentWriter(id, 2).write(Uint8Array.of(1));
      return commitImage(id);
    },
  },
  {
    name: 'commitImage twice', code: 'NOT_FOUND',
    run: async () => commitImage(await storeImage('twice')),
  },
  {
    name: 'putTree after commitImage', code: 'NOT_FOUND',
    run: async () => putTree(await storeImage('late'), makeTree(3)),
  },
])('error: $name → $code', async ({ code, message, run }) => {
  await expect(run()).rejects.toMatchObject({ name: 'StrataError', code, ...(message ? { message: expect.stringMatching(message) } : {}) });
});

test('error: a ready record whose tree is missing → STORAGE naming the image', async () => {
  const id = await storeImage('broken');
  await del(id, stores.trees);
  await expect(openImage(id)).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringMatching(/tree of "broken" is missing/) });
});

test('error: a tree stored in another format → STORAGE asking to re-import', async () => {
  const id = await storeImage('old');
  await set(id, { format: 99, tree: {} }, stores.trees);
  await expect(openImage(id)).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringMatching(/format 99.*import it again/) });
});

test('error: the record deleted by another tab during the import → ABORTED at commit, nothing left', async () => {
  const id = await beginImage(makeMeta('gone'));
  await putTree(id, makeTree(20));
  const w = createContentWriter(id, 0);
  await w.write(new Uint8Array(1000));
  await w.close();
  await del(id, stores.images); // what another tab's deleteImage does first
  await expect(commitImage(id)).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/"gone" was deleted while/) });
  expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
  await deleteImage(id); // idempotent
});

test('updateImageMeta replaces the metadata of an import in progress, keeping id and import time', async () => {
  const id = await beginImage(makeMeta('before'));
  const started = (await get<StoredImage>(id, stores.images))!;
  expect(started.image.name).toBe('before');
  const later = makeMeta('after', 2);
  later.layers[0].size = 123_456;
  await updateImageMeta(id, later);
  await putTree(id, makeTree(5));
  const done = await commitImage(id);
  expect(done).toEqual({ ...later, id, importedAt: started.importedAt, status: 'ready', totalBytes: done.totalBytes });
  expect((await openImage(id)).meta.layers.map((l) => l.size)).toEqual([123_456, undefined]);
});

test.each([
  { name: 'of an image never begun', code: 'NOT_FOUND', run: async () => updateImageMeta('nope', makeMeta()) },
  {
    name: 'after another tab deleted the record', code: 'ABORTED',
    run: async () => {
      const id = await beginImage(makeMeta('gone'));
      await del(id, stores.images);
      return updateImageMeta(id, makeMeta('gone'));
    },
  },
])('error: updateImageMeta $name → $code', async ({ code, run }) => {
  await expect(run()).rejects.toMatchObject({ name: 'StrataError', code });
  expect(await keyCounts()).toEqual({ images: 0, trees: 0, content: 0 });
});
