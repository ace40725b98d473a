// Right after an import the coordinator keeps the tree it just stored, so the open that follows
// (and the analysis, and an export) need not read it back from IndexedDB. What they get must be the
// stored tree, still whole after an export used it; a deleted image is not opened from memory.
// Run through the real coordinator modules against fake-indexeddb.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { wiredCoordinator } from '../fuzz/storage-check.ts';

const FIXTURE = '../shared/fixtures/generated/edge.docker.tar';

test('the tree kept after an import is the stored one, and stays whole', async () => {
  const { importImage } = await wiredCoordinator();
  const { rememberedTree, exportTar } = await import('../../src/worker/coordinator/export.ts');
  const storage = await import('../../src/storage/index.ts');
  const rec = await importImage(new Blob([readFileSync(FIXTURE)]), 'edge.docker.tar', {}, new AbortController().signal, () => {});
  const kept = rememberedTree(rec.id);
  expect(kept).not.toBeUndefined();
  const stored = (await storage.openImage(rec.id)).tree; // read back from IndexedDB
  expect(kept).toEqual(stored);
  // an export reads the same tree (treeOf): the kept one must not be changed or detached by it
  const tar = await exportTar(rec.id, undefined, undefined, false);
  expect(tar.size).toBeGreaterThan(0);
  expect(rememberedTree(rec.id)).toEqual(stored);
  expect((await storage.openImage(rec.id, kept!)).tree).toBe(kept);
  // the record decides whether the image is there: a kept tree does not open a deleted image
  await storage.deleteImage(rec.id);
  await expect(storage.openImage(rec.id, kept!)).rejects.toMatchObject({ code: 'NOT_FOUND' });
}, 60_000);
