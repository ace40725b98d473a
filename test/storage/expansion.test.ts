// Packed layers: an import stores a compressed layer as shipped (store `packed`), commitImage
// records it in `packed`, and beginExpansion/finish replace it by its decompressed stream. Each
// step is checked against what is in the stores, including the ways an expansion is cut short.
import 'fake-indexeddb/auto';
import { del, get, set } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { stores } from '../../src/storage/db.ts';
import {
  CHUNK_SIZE, beginExpansion, beginImage, cleanupOrphans, commitImage, deleteImage, layerContentBlob, listImages,
  packedLayerBlob, putTree, readRange, readRecord, storeLayerBlob, type StoredImage,
} from '../../src/storage/index.ts';
import { clearAll, contentKeys, exhaustQuota, packedKeys } from './idb-helpers.ts';
import { firstDiff, makeMeta, makeTree, pattern } from './make-image.ts';

beforeEach(clearAll);
afterEach(() => vi.restoreAllMocks());

const bytes = async (b: Blob) => new Uint8Array(await b.arrayBuffer());
/** the "compressed" layer 1 (any bytes do: storage never decompresses) and its "content" */
const PACKED = pattern(0, CHUNK_SIZE + 1000, 3);
const CONTENT = pattern(0, 2 * CHUNK_SIZE + 12345, 9);

/** An image whose layer 1 is packed; layers 0 and 2 are stored as content. */
async function packedImage(): Promise<string> {
  const meta = makeMeta('packed:1', 3);
  meta.layers[1] = { ...meta.layers[1], compression: 'gzip', size: CONTENT.length };
  const id = await beginImage(meta);
  await storeLayerBlob(id, 0, new Blob([pattern(0, 100)]));
  await storeLayerBlob(id, 1, new Blob([PACKED]), { packed: true, slice: CHUNK_SIZE }); // two chunks
  await storeLayerBlob(id, 2, new Blob([pattern(0, 200)]));
  await putTree(id, makeTree(10));
  await commitImage(id);
  return id;
}

/** Writes CONTENT through an expansion in pieces; returns the stored-bytes reports. */
async function writeContent(x: NonNullable<Awaited<ReturnType<typeof beginExpansion>>>, upTo = CONTENT.length): Promise<void> {
  for (let o = 0; o < upTo; o += 1 << 20) await x.writer.write(CONTENT.subarray(o, Math.min(upTo, o + (1 << 20))));
}

describe('an import with a packed layer', () => {
  test('stores the compressed bytes in `packed`, none as content, and records the layer as packed', async () => {
    const id = await packedImage();
    const rec = (await readRecord(id))!;
    expect(rec.status).toBe('ready');
    expect(rec.packed).toEqual([1]);
    expect(firstDiff(await bytes(await packedLayerBlob(id, 1)), PACKED)).toBe(-1);
    expect((await contentKeys()).filter((k) => k[1] === 1)).toEqual([]);
    await expect(layerContentBlob(id, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(rec.totalBytes).toBeGreaterThanOrEqual(100 + PACKED.length + 200);
  });

  test('an image without packed layers has no `packed` list', async () => {
    const id = await beginImage(makeMeta());
    for (const l of [0, 1, 2]) await storeLayerBlob(id, l, new Blob([pattern(0, 10)]));
    await putTree(id, makeTree(5));
    expect((await commitImage(id)).packed).toBeUndefined();
    expect(await beginExpansion(id, 1)).toBeNull();
  });

  test('a layer is packed once', async () => {
    const id = await beginImage(makeMeta());
    await storeLayerBlob(id, 1, new Blob([PACKED]), { packed: true });
    await expect(storeLayerBlob(id, 1, new Blob([PACKED]), { packed: true })).rejects.toMatchObject({ code: 'STORAGE', message: expect.stringMatching(/compressed blob of layer 1 .* already stored/) });
  });
});

describe('expansion', () => {
  test('stores the stream as content, reports progress in order, records the digest, drops the packed chunks', async () => {
    const id = await packedImage();
    const before = (await readRecord(id))!.totalBytes;
    const stored: number[] = [];
    const x = (await beginExpansion(id, 1, { onStored: (n) => stored.push(n) }))!;
    expect(x.info).toMatchObject({ index: 1, compression: 'gzip', size: CONTENT.length });
    expect(firstDiff(await bytes(x.packed), PACKED)).toBe(-1);
    await writeContent(x);
    const rec = await x.finish('sha256:abc');
    expect(rec.packed).toEqual([]);
    expect(rec.digests).toEqual({ 1: 'sha256:abc' });
    expect((await readRecord(id))!.digests).toEqual({ 1: 'sha256:abc' });
    expect(rec.totalBytes).toBe(before + CONTENT.length - PACKED.length);
    expect(firstDiff(await bytes(await layerContentBlob(id, 1)), CONTENT)).toBe(-1);
    expect(firstDiff(await readRange(id, 1, CHUNK_SIZE - 5, 10), CONTENT.subarray(CHUNK_SIZE - 5, CHUNK_SIZE + 5))).toBe(-1);
    expect(await packedKeys()).toEqual([]);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored).toEqual([...stored].sort((a, b) => a - b));
    expect(stored.at(-1)).toBe(CONTENT.length);
    // done: nothing more to expand, and listings agree
    expect(await beginExpansion(id, 1)).toBeNull();
    expect((await listImages())[0].packed).toEqual([]);
  });

  test('what is reported stored is readable before the layer is finished', async () => {
    const id = await packedImage();
    const big = pattern(0, 5 * CHUNK_SIZE + 7, 5); // more than one 16 MiB batch
    let upTo = 0;
    const x = (await beginExpansion(id, 1, { onStored: (n) => { upTo = n; } }))!;
    await x.writer.write(big.subarray(0, 4 * CHUNK_SIZE + 1));
    await vi.waitFor(() => expect(upTo).toBe(4 * CHUNK_SIZE));
    expect(firstDiff(await readRange(id, 1, 0, upTo), big.subarray(0, upTo))).toBe(-1);
    await x.writer.write(big.subarray(4 * CHUNK_SIZE + 1));
    await x.finish('sha256:00');
    expect(upTo).toBe(big.length);
    expect(firstDiff(await bytes(await layerContentBlob(id, 1)), big)).toBe(-1);
  });

  test('an expansion cut short (tab closed) is started again from scratch', async () => {
    const id = await packedImage();
    const first = (await beginExpansion(id, 1))!;
    await first.writer.write(pattern(0, CHUNK_SIZE + 10, 1)); // wrong bytes, never finished
    await first.writer.write(new Uint8Array(CHUNK_SIZE)); // a batch is on its way
    expect((await readRecord(id))!.packed).toEqual([1]);
    const again = (await beginExpansion(id, 1))!;
    await writeContent(again);
    await again.finish('sha256:00');
    expect(firstDiff(await bytes(await layerContentBlob(id, 1)), CONTENT)).toBe(-1);
  });

  test('abort removes what was written and leaves the layer packed', async () => {
    const id = await packedImage();
    const x = (await beginExpansion(id, 1))!;
    await writeContent(x, CHUNK_SIZE * 2);
    await x.abort();
    expect((await contentKeys()).filter((k) => k[1] === 1)).toEqual([]);
    expect((await readRecord(id))!.packed).toEqual([1]);
    expect((await packedKeys()).length).toBeGreaterThan(0);
  });

  test('a cancelled expansion refuses further writes', async () => {
    const id = await packedImage();
    const ctl = new AbortController();
    const x = (await beginExpansion(id, 1, { signal: ctl.signal }))!;
    await x.writer.write(CONTENT.subarray(0, 10));
    ctl.abort();
    await expect(x.writer.write(CONTENT.subarray(10, 20))).rejects.toMatchObject({ code: 'ABORTED' });
  });

  test('an image deleted meanwhile: finish fails with ABORTED and leaves no content behind', async () => {
    const id = await packedImage();
    const x = (await beginExpansion(id, 1))!;
    await writeContent(x);
    await deleteImage(id);
    await expect(x.finish('sha256:00')).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/deleted while layer 2 .* was being expanded/) });
    expect(await contentKeys()).toEqual([]);
    expect(await packedKeys()).toEqual([]);
  });

  test('running out of quota while expanding: a clear error, the layer stays packed', async () => {
    const id = await packedImage();
    const x = (await beginExpansion(id, 1))!;
    exhaustQuota('chunks', CHUNK_SIZE, 'commit');
    const err = await writeContent(x).then(() => x.finish('sha256:00')).then(() => null, (e: unknown) => e);
    vi.restoreAllMocks();
    expect(err).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await x.abort();
    expect((await readRecord(id))!.packed).toEqual([1]);
    expect(firstDiff(await bytes(await packedLayerBlob(id, 1)), PACKED)).toBe(-1);
  });

  test.each([
    { name: 'an unknown image', run: () => beginExpansion('nope', 0), code: 'NOT_FOUND' },
    { name: 'a layer the record lacks', code: 'NOT_FOUND', run: async () => {
      const id = await packedImage();
      const rec = (await get<StoredImage>(id, stores.images))!;
      await set(id, { ...rec, packed: [1, 7] }, stores.images);
      return beginExpansion(id, 7);
    } },
    { name: 'packed chunks missing (a gap)', code: 'STORAGE', run: async () => {
      const id = await packedImage();
      await del([id, 1, 0], stores.packed);
      return beginExpansion(id, 1);
    } },
    { name: 'no packed chunks at all', code: 'NOT_FOUND', run: async () => {
      const id = await packedImage();
      await del([id, 1, 0], stores.packed);
      await del([id, 1, CHUNK_SIZE], stores.packed);
      return beginExpansion(id, 1);
    } },
  ])('refuses $name', async ({ run, code }) => {
    await expect(run()).rejects.toMatchObject({ code });
  });
});

describe('cleanup and delete with packed layers', () => {
  test('cleanupOrphans keeps packed chunks a ready image lists, removes those of an expanded layer', async () => {
    const id = await packedImage();
    expect(await cleanupOrphans()).toEqual({ removed: [], failed: [] });
    expect((await packedKeys()).length).toBe(2);
    // as if a tab closed between recording the layer expanded and deleting its packed chunks
    const rec = (await get<StoredImage>(id, stores.images))!;
    await set(id, { ...rec, packed: [] }, stores.images);
    expect(await cleanupOrphans()).toEqual({ removed: [id], failed: [] });
    expect(await packedKeys()).toEqual([]);
    expect((await readRecord(id))!.status).toBe('ready');
  });

  test('cleanupOrphans removes packed chunks without an image (an import whose tab crashed)', async () => {
    const id = 'crashed-import';
    await set([id, 1, 0], new Blob([PACKED]), stores.packed);
    expect((await cleanupOrphans()).removed).toEqual([id]);
    expect(await packedKeys()).toEqual([]);
  });

  test('deleteImage removes the packed chunks', async () => {
    const id = await packedImage();
    await deleteImage(id);
    expect(await packedKeys()).toEqual([]);
    expect(await contentKeys()).toEqual([]);
  });
});
