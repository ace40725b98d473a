// A file read right after an import, while its layer is still packed: the page's read inflates
// the packed copy itself while the expansions hold (direct-read.ts). Here the expansions are held the
// whole time (as during an export), so only that inflate can serve the reads: they must still
// come, byte for byte what is stored once the layer is expanded — two at once from one inflate
// (one across 4 MiB pieces). A read the inflate cannot serve (past the layer's end) is left to the
// stored path once the read's own hold is let go: an error, not a hang. Run in this thread through the real
// coordinator modules (pool, decode and merge workers wired as the fuzzer does), on fake-indexeddb.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { writeBigImage } from '../browser/big-image.ts';
import { storedKeys, wiredCoordinator } from '../fuzz/storage-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-direct-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('reads of a packed layer are served by an inflate while its expansion is held; the same bytes as stored', async () => {
  const path = join(dir, 'image.tar');
  writeBigImage(path, { layers: 2, filesPerLayer: 8, fileBytes: 2 << 20 });
  const { importImage } = await wiredCoordinator();
  const { holdingExpansions } = await import('../../src/worker/coordinator/pool.ts');
  const { expandAll, expansionAt, stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
  /** whether bytes [0, end) of the layer are still to be stored */
  const behind = async (id: string, layer: number, end: number) => { const at = await expansionAt(id, layer); return at !== null && at < end; };
  const { readForPage } = await import('../../src/worker/coordinator/direct-read.ts');
  const { deleteImage, openImage, readRange, readRecord } = await import('../../src/storage/index.ts');
  const rec = await importImage(new Blob([readFileSync(path)]), 'image.tar', {}, new AbortController().signal, () => {});
  const { tree } = await openImage(rec.id);
  // layer 2's files by offset: the last one, one in the middle, the first
  const files: { offset: number; size: number }[] = [];
  for (let i = 0; i < tree.iType.length; i++) if (tree.iLayer[i] === 1 && tree.iSize[i] > 0) files.push({ offset: tree.iOffset[i], size: tree.iSize[i] });
  files.sort((a, b) => a.offset - b.offset);
  expect(files).toHaveLength(8);
  const last = files[7], middle = files[3], first = files[0];

  let release!: () => void;
  const held = holdingExpansions(() => new Promise<void>((r) => { release = r; }));
  const got: Record<string, Uint8Array> = {};
  let past: Promise<Error | null> = Promise.resolve(null);
  try {
    expect(await behind(rec.id, 1, last.offset + last.size)).toBe(true); // starts the expansion, which holds
    // two reads at once: one inflate serves both as it passes them
    [got.last, got.middle] = await Promise.all([
      readForPage(rec.id, 1, last.offset + 1000, 64 << 10),
      readForPage(rec.id, 1, middle.offset, 6 << 20), // more than a 4 MiB piece: across pieces
    ]);
    expect((await readRecord(rec.id))?.packed).toContain(1); // still packed: the inflate served them
    // past the layer's end: the inflate ends short, the read lets its hold go and waits for the
    // stored path (the expansion, once this test's hold ends too) — which answers with its error
    const size = (await readRecord(rec.id))!.layers[1].size!;
    past = readForPage(rec.id, 1, size - 100, 4096).then(() => null, (e: Error) => e);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    release();
    await held;
  }
  // the read past the end (below) waited for the expansion, which the read's own hold no longer stops
  const err = await past;
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).toMatch(/stored content ends at byte/);
  got.first = await readForPage(rec.id, 1, first.offset, 4096);
  await expandAll(await readRecord(rec.id) ?? rec);
  expect((await readRecord(rec.id))?.packed ?? []).toEqual([]);
  expect(got.last).toEqual(await readRange(rec.id, 1, last.offset + 1000, 64 << 10));
  expect(got.middle).toEqual(await readRange(rec.id, 1, middle.offset, 6 << 20));
  expect(got.first).toEqual(await readRange(rec.id, 1, first.offset, 4096));
  expect(got.middle.length).toBe(6 << 20);
  // once stored, reads come from storage (nothing is behind)
  expect(await behind(rec.id, 1, last.offset + last.size)).toBe(false);
  expect(await readForPage(rec.id, 1, last.offset, 16)).toEqual(await readRange(rec.id, 1, last.offset, 16));
  await stopBackground(rec.id);
  await deleteImage(rec.id);
  expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
}, 120_000);
