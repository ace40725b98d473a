// An import is work the user waits for: while it runs, the expansions of images imported before it
// hold (at their next input chunk) and lend it their pool workers, and start again after it. A
// second image dropped the moment the first was browsable used to share both cores with the first
// one's expansions, digest checks and analysis (2.8× slower on the bench's text image), and its
// decode jobs waited for a whole expansion to end before they got a worker. Run in this thread
// through the real coordinator modules (pool, decode and merge workers wired as the fuzzer does),
// against fake-indexeddb.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { writeBigImage } from '../browser/big-image.ts';
import { storedKeys, wiredCoordinator } from '../fuzz/storage-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-import-holds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an import borrows the workers of held expansions; they finish after it, whole', async () => {
  const first = join(dir, 'first.tar');
  const second = join(dir, 'second.tar');
  // two layers of 64 MiB: each expansion holds a pool worker for a while
  writeBigImage(first, { layers: 2, filesPerLayer: 16, fileBytes: 4 << 20 });
  writeBigImage(second, { layers: 3, filesPerLayer: 4, fileBytes: 256 << 10 });
  const { importImage } = await wiredCoordinator();
  const { freeWorkers } = await import('../../src/worker/coordinator/pool.ts');
  const { expandAll, stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
  const { deleteImage, readRecord } = await import('../../src/storage/index.ts');
  const a = await importImage(new Blob([readFileSync(first)]), 'first.tar', {}, new AbortController().signal, () => {});
  expect(a.packed).toHaveLength(2);
  const expanding = expandAll(a);
  for (let i = 0; i < 200 && freeWorkers() > 0; i++) await sleep(5);
  expect(freeWorkers()).toBe(0); // both workers expand the first image

  // without the loan the second import's decodes would wait for an expansion that the hold stops:
  // it would never end (the test's timeout); without the hold it would end after an expansion
  const b = await importImage(new Blob([readFileSync(second)]), 'second.tar', {}, new AbortController().signal, () => {});
  expect(b.status).toBe('ready');
  expect(b.layers.map((l) => l.entries)).toEqual([5, 5, 5]);
  expect((await readRecord(a.id))?.packed).toHaveLength(2); // neither expansion got to its end meanwhile

  await expandAll(b);
  await expanding;
  const ra = await readRecord(a.id);
  expect(ra?.packed ?? []).toEqual([]);
  // each expansion hashed its whole compressed blob, across the hold: the digest the config names
  expect(Object.keys(ra?.digests ?? {})).toHaveLength(2);
  for (const l of a.layers) expect(ra?.digests?.[l.index]).toBe(l.digest);
  expect(freeWorkers()).toBe(2);
  for (const id of [a.id, b.id]) { await stopBackground(id); await deleteImage(id); }
  expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
}, 120_000);
