import 'fake-indexeddb/auto';
import { del, keys, values } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { stores } from '../../src/storage/db.ts';
import {
  CHUNK_SIZE, beginImage, commitImage, createContentWriter, layerContentBlob, packedLayerBlob, putTree, readRange, storeLayerBlob,
} from '../../src/storage/index.ts';
import { BLOB_SLICE } from '../../src/storage/content-writer.ts';
import { clearAll, contentKeys } from './idb-helpers.ts';
import { firstDiff, makeMeta, makeTree, pattern } from './make-image.ts';

const blobBytes = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

beforeEach(clearAll);
afterEach(() => vi.restoreAllMocks());

// Odd sizes, one bigger than a chunk, a total spanning three chunks.
const PIECES = [1, 7, 321, 65536, CHUNK_SIZE + 4099, 321, 2_000_000, 7, 65536, 3_000_000, 1];
const TOTAL = PIECES.reduce((a, b) => a + b, 0);

/** Writes pattern bytes in `pieces` from one scratch buffer that is overwritten after each write. */
async function writeLayer(id: string, layer: number, pieces: number[]): Promise<number> {
  const w = createContentWriter(id, layer);
  const scratch = new Uint8Array(Math.max(...pieces));
  let at = 0;
  for (const n of pieces) {
    scratch.set(pattern(at, n));
    await w.write(scratch.subarray(0, n));
    scratch.fill(0xee, 0, n); // the writer must have copied the bytes
    at += n;
  }
  expect(w.size).toBe(at);
  return w.close();
}

describe('a layer written in pieces of odd sizes', () => {
  let id: string;
  beforeEach(async () => {
    id = await beginImage(makeMeta());
    expect(await writeLayer(id, 0, PIECES)).toBe(TOTAL);
  });

  test('is stored as chunks keyed by offset, all CHUNK_SIZE but the last', async () => {
    expect(await contentKeys()).toEqual([[id, 0, 0], [id, 0, CHUNK_SIZE], [id, 0, 2 * CHUNK_SIZE]]);
    expect((await values<Blob>(stores.content)).map((b) => b.size)).toEqual([CHUNK_SIZE, CHUNK_SIZE, TOTAL - 2 * CHUNK_SIZE]);
  });

  test('layerContentBlob returns exactly the bytes written', async () => {
    const blob = await layerContentBlob(id, 0);
    expect(blob.size).toBe(TOTAL);
    expect(firstDiff(await blobBytes(blob), pattern(0, TOTAL))).toBe(-1);
  });

  test.each([
    { what: 'first byte', offset: 0, length: 1 },
    { what: 'inside the first chunk', offset: 1000, length: 4321 },
    { what: 'across one boundary', offset: CHUNK_SIZE - 3, length: 10 },
    { what: 'starting on a boundary', offset: CHUNK_SIZE, length: 5 },
    { what: 'ending on a boundary', offset: CHUNK_SIZE - 5, length: 5 },
    { what: 'across two boundaries', offset: CHUNK_SIZE - 100, length: CHUNK_SIZE + 200 },
    { what: 'the last bytes', offset: TOTAL - 7, length: 7 },
    { what: 'everything', offset: 0, length: TOTAL },
    { what: 'nothing', offset: 12345, length: 0 },
  ])('readRange: $what', async ({ offset, length }) => {
    const got = await readRange(id, 0, offset, length);
    expect(got.length).toBe(length);
    expect(firstDiff(got, pattern(offset, length))).toBe(-1);
  });

  test('error: readRange past the end → NOT_FOUND naming where the content ends', async () => {
    await expect(readRange(id, 0, TOTAL - 2, 3)).rejects.toMatchObject({
      code: 'NOT_FOUND', message: expect.stringMatching(new RegExp(`content ends at byte ${TOTAL}\\b`)),
    });
  });

  test('error: a missing middle chunk → STORAGE naming the gap', async () => {
    await del([id, 0, CHUNK_SIZE], stores.content);
    const gap = { code: 'STORAGE', message: expect.stringMatching(new RegExp(`gap at byte ${CHUNK_SIZE}\\b`)) };
    await expect(layerContentBlob(id, 0)).rejects.toMatchObject(gap);
    await expect(readRange(id, 0, CHUNK_SIZE - 1, 2)).rejects.toMatchObject(gap);
    // A range inside an intact chunk still reads.
    expect(await readRange(id, 0, 10, 3)).toEqual(pattern(10, 3));
  });
});

test('replayed in 321-byte pieces the layer is the same', async () => {
  const id = await beginImage(makeMeta());
  const total = 700_001;
  const pieces = Array.from({ length: Math.ceil(total / 321) }, (_, i) => Math.min(321, total - i * 321));
  expect(await writeLayer(id, 1, pieces)).toBe(total);
  expect(firstDiff(await blobBytes(await layerContentBlob(id, 1)), pattern(0, total))).toBe(-1);
});

test('layers of one image are kept apart and totalBytes counts content and tree', async () => {
  const id = await beginImage(makeMeta());
  await writeLayer(id, 0, [1000]);
  await writeLayer(id, 2, [300, 300]);
  await putTree(id, makeTree(10));
  const done = await commitImage(id);
  expect((await layerContentBlob(id, 0)).size).toBe(1000);
  expect((await layerContentBlob(id, 2)).size).toBe(600);
  expect(await readRange(id, 2, 299, 2)).toEqual(pattern(299, 2));
  const tree = makeTree(10);
  const treeBytes = Object.values(tree).reduce((n, v) => n + (ArrayBuffer.isView(v) ? v.byteLength : 0), 3);
  expect(done.totalBytes).toBe(1600 + treeBytes);
});

describe('storeLayerBlob', () => {
  test('stores a Blob (e.g. a File slice) as slices and reads it back', async () => {
    const id = await beginImage(makeMeta());
    const size = 2 * CHUNK_SIZE + 5;
    const file = new Blob([new Uint8Array(100), pattern(0, size)]).slice(100);
    expect(await storeLayerBlob(id, 1, file, { slice: CHUNK_SIZE })).toBe(size);
    expect(await contentKeys()).toEqual([[id, 1, 0], [id, 1, CHUNK_SIZE], [id, 1, 2 * CHUNK_SIZE]]);
    expect(await readRange(id, 1, 2 * CHUNK_SIZE - 2, 7)).toEqual(pattern(2 * CHUNK_SIZE - 2, 7));
    expect(firstDiff(await blobBytes(await layerContentBlob(id, 1)), pattern(0, size))).toBe(-1);
  });

  test('by default a layer up to BLOB_SLICE is one put: one record, read back by range as before', async () => {
    const id = await beginImage(makeMeta());
    const size = 3 * CHUNK_SIZE + 11;
    expect(BLOB_SLICE).toBeGreaterThan(size);
    expect(await storeLayerBlob(id, 2, new Blob([pattern(0, size)]), { packed: true })).toBe(size);
    expect(await keys(stores.packed)).toEqual([[id, 2, 0]]);
    expect(firstDiff(await blobBytes(await packedLayerBlob(id, 2)), pattern(0, size))).toBe(-1);
    expect(await storeLayerBlob(id, 3, new Blob([pattern(0, size)]))).toBe(size);
    expect(await readRange(id, 3, 2 * CHUNK_SIZE - 2, CHUNK_SIZE + 13)).toEqual(pattern(2 * CHUNK_SIZE - 2, CHUNK_SIZE + 13));
  });

  test('an empty layer is stored as empty, which differs from not stored', async () => {
    const id = await beginImage(makeMeta());
    expect(await storeLayerBlob(id, 0, new Blob([]))).toBe(0);
    expect(await createContentWriter(id, 1).close()).toBe(0);
    expect((await layerContentBlob(id, 0)).size).toBe(0);
    expect((await layerContentBlob(id, 1)).size).toBe(0);
    expect(await readRange(id, 0, 0, 0)).toEqual(new Uint8Array(0));
    await expect(readRange(id, 1, 0, 1)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/ends at byte 0\b/) });
    await expect(layerContentBlob(id, 2)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/Layer 2 .* has no stored content/) });
  });
});

describe('errors', () => {
  test.each([
    { name: 'layerContentBlob of a layer never stored', code: 'NOT_FOUND', run: (id: string) => layerContentBlob(id, 5) },
    { name: 'readRange of a layer never stored', code: 'NOT_FOUND', run: (id: string) => readRange(id, 5, 0, 1) },
    { name: 'readRange of an unknown image', code: 'NOT_FOUND', run: () => readRange('nope', 0, 0, 1) },
    { name: 'a writer for an unknown image', code: 'NOT_FOUND', run: async () => createContentWriter('nope', 0) },
    { name: 'storeLayerBlob for an unknown image', code: 'NOT_FOUND', run: () => storeLayerBlob('nope', 0, new Blob(['x'])) },
    {
      name: 'a second writer for the same layer', code: 'STORAGE', message: /layer 0 .* already stored or being stored/,
      run: async (id: string) => { createContentWriter(id, 0); return createContentWriter(id, 0); },
    },
    {
      name: 'storeLayerBlob for a layer already written', code: 'STORAGE', message: /already stored/,
      run: async (id: string) => { await createContentWriter(id, 0).close(); return storeLayerBlob(id, 0, new Blob(['x'])); },
    },
    {
      name: 'write after close', code: 'STORAGE', message: /writer of layer 0 .* is closed/,
      run: async (id: string) => { const w = createContentWriter(id, 0); await w.close(); return w.write(Uint8Array.of(1)); },
    },
    {
      name: 'a write started before the previous finished', code: 'STORAGE', message: /await each write/,
      run: async (id: string) => {
        const w = createContentWriter(id, 0);
        const first = w.write(new Uint8Array(CHUNK_SIZE * 5)); // flushes a batch, so it is still running below
        try { return await w.write(Uint8Array.of(1)); } finally { await first; }
      },
    },
  ])('$name → $code', async ({ code, message, run }) => {
    const id = await beginImage(makeMeta());
    await expect(run(id)).rejects.toMatchObject({ name: 'StrataError', code, ...(message ? { message: expect.stringMatching(message) } : {}) });
  });

  test.each([
    { offset: -1, length: 1 }, { offset: 0, length: -1 }, { offset: 1.5, length: 1 }, { offset: 0, length: Number.NaN },
  ])('readRange($offset, $length) → RangeError (a caller bug, not a storage state)', async ({ offset, length }) => {
    await expect(readRange('any', 0, offset, length)).rejects.toThrow(RangeError);
  });

  test('a writer for layer -1 → RangeError', async () => {
    const id = await beginImage(makeMeta());
    expect(() => createContentWriter(id, -1)).toThrow(RangeError);
  });
});
