// The pool's spare worker (coordinator/pool.ts): only an import's decodes run on it, and only when
// the import's layers are of like sizes (core/layers/schedule.ts). Run in this thread through the
// real coordinator modules (pool, decode and merge workers wired as the fuzzer does), against
// fake-indexeddb; the spare's port writes down the jobs it is sent.
import { afterAll, expect, test } from 'vitest';
import { ociArchive, tar } from '../../scripts/image-writer.ts';
import { addDecodeWorker, storedKeys, wiredCoordinator } from '../fuzz/storage-check.ts';

/** A gzip image with one layer per entry of `sizes`, each a file of that many bytes of text. */
function image(sizes: number[]): Blob {
  const layers = sizes.map((n, l) => tar([
    { name: `l${l}`, kind: 'dir' },
    { name: `l${l}/file.txt`, data: 'strata spare worker test\n'.repeat(Math.ceil(n / 25)).slice(0, n) },
  ]));
  return new Blob([ociArchive({ layers, compress: 'gzip' }) as Uint8Array<ArrayBuffer>]);
}

let jobs: string[] = [];
const cleanup: string[] = [];
afterAll(async () => {
  const { deleteImage } = await import('../../src/storage/index.ts');
  const { stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
  for (const id of cleanup) { await stopBackground(id); await deleteImage(id); }
  expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
});

test('layers of like sizes: the spare decodes one of them; the image is whole', async () => {
  const { importImage } = await wiredCoordinator();
  jobs = await addDecodeWorker(true);
  const rec = await importImage(image([300_000, 280_000, 260_000]), 'like.tar', {}, new AbortController().signal, () => {});
  cleanup.push(rec.id);
  expect(rec.status).toBe('ready');
  expect(rec.layers.map((l) => l.entries)).toEqual([2, 2, 2]);
  expect(jobs).toEqual(['decode']);
});

test('one layer outweighing the others: no decode on the spare', async () => {
  const { importImage } = await wiredCoordinator();
  jobs.length = 0;
  const rec = await importImage(image([900_000, 50_000, 40_000]), 'dominant.tar', {}, new AbortController().signal, () => {});
  cleanup.push(rec.id);
  expect(rec.layers.map((l) => l.entries)).toEqual([2, 2, 2]);
  expect(jobs).toEqual([]);
});

test('no more layers than cores: no decode on the spare', async () => {
  const { importImage } = await wiredCoordinator();
  jobs.length = 0;
  const rec = await importImage(image([300_000, 300_000]), 'two.tar', {}, new AbortController().signal, () => {});
  cleanup.push(rec.id);
  expect(jobs).toEqual([]);
});

test('background work (expansions, digest checks) and exports never run on the spare', async () => {
  await wiredCoordinator();
  const { expandAll } = await import('../../src/worker/coordinator/expansion.ts');
  const { exportTar } = await import('../../src/worker/coordinator/export.ts');
  const { verifyLayer } = await import('../../src/worker/coordinator/verification.ts');
  const { readRecord } = await import('../../src/storage/index.ts');
  const { freeWorkers, poolCores } = await import('../../src/worker/coordinator/pool.ts');
  expect(poolCores()).toBe(2); // the spare is not one of them
  jobs.length = 0;
  for (const id of cleanup) {
    const rec = (await readRecord(id))!;
    await expandAll(rec);
    expect((await readRecord(id))?.packed ?? []).toEqual([]);
    for (const l of rec.layers) await verifyLayer(id, l.index);
    expect((await readRecord(id))?.layers.map((l) => l.verify?.state)).toEqual(rec.layers.map(() => 'verified'));
    const out = await exportTar(id, undefined, undefined, false);
    expect(out.size).toBeGreaterThan(0);
  }
  expect(jobs).toEqual([]);
  expect(freeWorkers()).toBe(2);
}, 60_000);
