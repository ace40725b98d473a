import 'fake-indexeddb/auto';
import { keys, set } from 'idb-keyval';
import { beforeEach, expect, test } from 'vitest';
import { stores } from '../../src/storage/db.ts';
import { abortImage, beginImage, putCaptured, readCaptured } from '../../src/storage/index.ts';
import { clearAll } from './idb-helpers.ts';
import { makeMeta, pattern } from './make-image.ts';

beforeEach(clearAll);

const file = (offset: number, size: number, seed: number) => ({ offset, bytes: pattern(seed, size) });

test('the files a layer kept come back by layer and offset, byte for byte', async () => {
  const id = await beginImage(makeMeta('captured'));
  const l0 = [file(512, 3000, 1), file(8192, 0, 2), file(9216, 70_000, 3)];
  const l2 = [file(1024, 5, 4)];
  await putCaptured(id, 0, l0);
  await putCaptured(id, 1, []); // nothing kept: nothing stored
  await putCaptured(id, 2, l2);
  const got = await readCaptured(id);
  expect([...got.keys()].sort()).toEqual(['0:512', '0:8192', '0:9216', '2:1024']);
  for (const [layer, files] of [[0, l0], [2, l2]] as const) {
    for (const f of files) expect(got.get(`${layer}:${f.offset}`)).toEqual(f.bytes);
  }
  await abortImage(id);
  expect(await keys(stores.analysis)).toEqual([]); // removed with a failed import
});

test('a layer stored as one buffer (before the Blob form) still reads', async () => {
  const id = await beginImage(makeMeta('older'));
  const a = pattern(5, 100), b = pattern(6, 40);
  const bytes = new Uint8Array(140);
  bytes.set(a, 0);
  bytes.set(b, 100);
  await set([id, 'captured', 3], { offsets: [0, 4096], sizes: [100, 40], bytes }, stores.analysis);
  const got = await readCaptured(id);
  expect(got.get('3:0')).toEqual(a);
  expect(got.get('3:4096')).toEqual(b);
});

test('a damaged record of captured files is a clear storage error, not a crash', async () => {
  const id = await beginImage(makeMeta('damaged'));
  await set([id, 'captured', 1], { offsets: [0], sizes: [10] }, stores.analysis);
  await expect(readCaptured(id)).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining('layer 2') });
});
