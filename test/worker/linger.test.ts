// A streamed download's last chunk is not its end: the browser still writes what the service
// worker holds and syncs the file. Background work (expansions, digest checks, the analysis) waits
// a moment more (`linger`), started from inside the export's gates so that neither opens between.
// The real decode worker, in this thread.
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import type { LayerInfo } from '../../src/core/model.ts';
import { wiredCoordinator } from '../fuzz/storage-check.ts';

const info: LayerInfo = { index: 0, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', compression: 'gzip', compressedSize: 0, member: 'l' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('after an export, background work waits out the linger, then goes on', async () => {
  await wiredCoordinator();
  const { holdingExpansions, inForeground, foregroundIdle, linger, newJobId, runJob } = await import('../../src/worker/coordinator/pool.ts');
  const blob = new Blob([gzipSync(new Uint8Array(8 << 20).fill(7))]);
  let background = 0;
  let idleAt = 0;
  let leave!: () => void;
  const t0 = performance.now();
  // an export: foreground work holding the expansions; it lingers 400 ms as it ends
  const exporting = inForeground(() => holdingExpansions(() => new Promise<void>((r) => { leave = () => { linger(400); r(); }; })));
  await sleep(20); // the hold reaches the workers
  const expansion = runJob({ type: 'expand', job: newJobId(), info, blob }, undefined, undefined, (c, ack) => { background += c.length; ack(); });
  void foregroundIdle().then(() => { idleAt = performance.now() - t0; });
  await sleep(100);
  leave();
  await exporting;
  const ended = performance.now() - t0;
  await sleep(250);
  expect(background).toBe(0); // still held: the linger is not over
  expect(idleAt).toBe(0); // digest checks and the analysis wait for this
  await expansion;
  expect(background).toBe(8 << 20);
  expect(idleAt).toBeGreaterThanOrEqual(ended + 390);
}, 60_000);

test('the linger grows with the download, within bounds', async () => {
  const { finishGraceMs } = await import('../../src/worker/coordinator/export.ts');
  expect(finishGraceMs(0)).toBe(150);
  expect(finishGraceMs(300e6)).toBe(270);
  expect(finishGraceMs(1.64e9)).toBeCloseTo(806, 0);
  expect(finishGraceMs(10e9)).toBe(1500);
});
