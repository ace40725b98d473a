// Stored chunks are read out of IndexedDB once per record and their Blobs held until this context
// deletes the record (src/storage/held-blobs.ts: Chromium kills the tab when a Blob is built over
// a released and re-read IndexedDB Blob). Checked here: later reads get no record again, deletes
// let go, a record deleted elsewhere is never read from what is held, and a layer written again
// after its chunks were dropped reads as written.
import 'fake-indexeddb/auto';
import { del } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { stores } from '../../src/storage/db.ts';
import {
  CHUNK_SIZE, beginExpansion, beginImage, commitImage, deleteImage, layerContentBlob, listImages, packedLayerBlob, putTree, readRange, storeLayerBlob,
} from '../../src/storage/index.ts';
import { heldChunks, heldCount } from '../../src/storage/held-blobs.ts';
import { clearAll } from './idb-helpers.ts';
import { firstDiff, makeMeta, makeTree, pattern } from './make-image.ts';

beforeEach(clearAll);
afterEach(() => vi.restoreAllMocks());

const bytes = async (b: Blob) => new Uint8Array(await b.arrayBuffer());
const CONTENT = pattern(0, 2 * CHUNK_SIZE + 777, 5); // three chunks
const PACKED = pattern(0, CHUNK_SIZE + 99, 7); // two chunks

/** Layer 0 stored as content (three chunks), layer 1 packed (two chunks). */
async function image(): Promise<string> {
  const meta = makeMeta('held', 2);
  meta.layers[1] = { ...meta.layers[1], compression: 'gzip', size: CONTENT.length };
  const id = await beginImage(meta);
  await storeLayerBlob(id, 0, new Blob([CONTENT]), { slice: CHUNK_SIZE });
  await storeLayerBlob(id, 1, new Blob([PACKED]), { packed: true, slice: CHUNK_SIZE });
  await putTree(id, makeTree(4));
  await commitImage(id);
  return id;
}

/** counts the chunk records whose values were read (get / getAll) on the content and packed stores */
function countValueReads(): { n: number } {
  const c = { n: 0 };
  const get = IDBObjectStore.prototype.get, getAll = IDBObjectStore.prototype.getAll;
  vi.spyOn(IDBObjectStore.prototype, 'get').mockImplementation(function (this: IDBObjectStore, k: IDBValidKey | IDBKeyRange) {
    if (this.name === 'chunks') c.n++;
    return get.call(this, k);
  });
  vi.spyOn(IDBObjectStore.prototype, 'getAll').mockImplementation(function (this: IDBObjectStore, q?: IDBValidKey | IDBKeyRange | null, n?: number) {
    const req = getAll.call(this, q, n);
    if (this.name === 'chunks') req.addEventListener('success', () => { c.n += req.result.length; });
    return req;
  });
  return c;
}

describe('chunks read out of IndexedDB', () => {
  test('each record is read once; every later read of the layer, whole or by range, reuses its Blob', async () => {
    const id = await image();
    const reads = countValueReads();
    expect(firstDiff(await bytes(await layerContentBlob(id, 0)), CONTENT)).toBe(-1);
    expect(reads.n).toBe(3);
    expect(heldCount('content', id)).toBe(3);
    expect(firstDiff(await bytes(await layerContentBlob(id, 0)), CONTENT)).toBe(-1);
    const at = CHUNK_SIZE - 10;
    expect(firstDiff(await readRange(id, 0, at, 20), CONTENT.subarray(at, at + 20))).toBe(-1);
    expect(firstDiff(await bytes(await packedLayerBlob(id, 1)), PACKED)).toBe(-1);
    expect(firstDiff(await bytes(await packedLayerBlob(id, 1)), PACKED)).toBe(-1);
    expect(reads.n).toBe(3 + 2); // and the packed layer's two chunks, once
    expect(heldCount('packed', id)).toBe(2);
  });

  test('two reads of a layer at once get the same Blob of each record, and a third reads no record again', async () => {
    const id = await image();
    const read = () => stores.content('readonly', (os) => heldChunks(os, 'content', id, 0));
    const [a, b] = await Promise.all([read(), read()]);
    expect(a.blobs).toHaveLength(3);
    a.blobs.forEach((blob, i) => expect(b.blobs[i]).toBe(blob));
    const reads = countValueReads();
    const c = await read();
    c.blobs.forEach((blob, i) => expect(blob).toBe(a.blobs[i]));
    expect(reads.n).toBe(0);
  });

  test('a range read holds only the chunks it needed', async () => {
    const id = await image();
    const reads = countValueReads();
    expect(firstDiff(await readRange(id, 0, CHUNK_SIZE + 5, 10), CONTENT.subarray(CHUNK_SIZE + 5, CHUNK_SIZE + 15))).toBe(-1);
    expect(reads.n).toBe(1);
    expect(heldCount('content', id)).toBe(1);
  });

  test('deleting the image lets go of every held chunk', async () => {
    const id = await image();
    await layerContentBlob(id, 0);
    await packedLayerBlob(id, 1);
    const other = await image();
    await layerContentBlob(other, 0);
    expect(heldCount(undefined, id)).toBe(5);
    await deleteImage(id);
    expect(heldCount(undefined, id)).toBe(0);
    expect(heldCount('content', other)).toBe(3); // another image's stay
  });

  test('an expansion lets go of the packed chunks it deletes, and its content reads as written', async () => {
    const id = await image();
    await packedLayerBlob(id, 1);
    expect(heldCount('packed', id)).toBe(2);
    const x = (await beginExpansion(id, 1))!;
    await x.writer.write(CONTENT);
    await x.finish('sha256:' + '0'.repeat(64));
    expect(heldCount('packed', id)).toBe(0);
    expect(firstDiff(await bytes(await layerContentBlob(id, 1)), CONTENT)).toBe(-1);
  });

  test('an expansion cut short lets go of what it wrote; the next one reads its own bytes, not the held ones', async () => {
    const id = await image();
    let stored = 0;
    const first = (await beginExpansion(id, 1, { onStored: (n) => { stored = n; } }))!;
    const wrong = pattern(0, 5 * CHUNK_SIZE, 11); // past one batch (BATCH_BYTES), so some is stored
    await first.writer.write(wrong);
    await vi.waitFor(() => expect(stored).toBeGreaterThanOrEqual(CHUNK_SIZE));
    // a read while the first expansion ran holds its first chunk
    expect(firstDiff(await readRange(id, 1, 0, 8), wrong.subarray(0, 8))).toBe(-1);
    expect(heldCount('content', id)).toBeGreaterThan(0);
    await first.abort();
    expect(heldCount('content', id)).toBe(0);
    const again = (await beginExpansion(id, 1))!;
    await again.writer.write(CONTENT);
    await again.finish('sha256:' + '1'.repeat(64));
    expect(firstDiff(await bytes(await layerContentBlob(id, 1)), CONTENT)).toBe(-1);
  });

  test('an image deleted elsewhere is let go at the next listing of the images', async () => {
    const id = await image();
    const other = await image();
    await layerContentBlob(id, 0);
    await layerContentBlob(other, 0);
    await del(id, stores.images); // another tab deleted it: its record goes first
    expect(heldCount('content', id)).toBe(3);
    expect((await listImages()).map((r) => r.id)).toEqual([other]);
    expect(heldCount(undefined, id)).toBe(0);
    expect(heldCount('content', other)).toBe(3);
  });

  test('a record deleted elsewhere is let go at the next listing and never read from what is held', async () => {
    const id = await image();
    await layerContentBlob(id, 0);
    expect(heldCount('content', id)).toBe(3);
    await del([id, 0, CHUNK_SIZE], stores.content); // another tab, say
    await expect(layerContentBlob(id, 0)).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringContaining(`gap at byte ${CHUNK_SIZE}`) });
    expect(heldCount('content', id)).toBe(2);
    await expect(readRange(id, 0, CHUNK_SIZE + 1, 4)).rejects.toMatchObject({ code: 'STORAGE' });
  });
});
