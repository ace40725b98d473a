// While a streamed export runs, background expansions on the pool workers stop at their next input
// chunk (a `hold` message), not only once the coordinator stops handing their buffers back: that
// left them inflating and hashing well into the export, on the cores it needs. An export's own
// inflate (an `expand` without a hash) is never held. The real decode worker, in this thread.
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import type { LayerInfo } from '../../src/core/model.ts';
import { wiredCoordinator } from '../fuzz/storage-check.ts';

const info: LayerInfo = { index: 0, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', compression: 'gzip', compressedSize: 0, member: 'l' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 48 MiB that gzip cannot shrink much: many input chunks, many 4 MiB pieces */
function layer(): Blob {
  const b = new Uint8Array(48 << 20);
  let x = 1;
  for (let i = 0; i < b.length; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return new Blob([gzipSync(b, { level: 1 })]);
}

test('a background expansion is held while a streamed export runs; an export\'s own inflate is not', async () => {
  await wiredCoordinator();
  const { holdingExpansions, newJobId, runJob, runShared } = await import('../../src/worker/coordinator/pool.ts');
  const blob = layer();
  let background = 0, own = 0;
  let leave!: () => void;
  const streaming = holdingExpansions(() => new Promise<void>((r) => { leave = r; }));
  await sleep(20); // the hold reaches the workers
  // every piece handed back at once: only the hold can stop the background one
  const expansion = runJob({ type: 'expand', job: newJobId(), info, blob }, undefined, undefined, (c, ack) => { background += c.length; ack(); });
  const exportInflate = runShared({ type: 'expand', job: newJobId(), info, blob, hash: false }, undefined, (c, ack) => { own += c.length; ack(); });
  await exportInflate;
  expect(own).toBe(48 << 20);
  await sleep(200);
  expect(background).toBe(0);
  leave();
  await streaming;
  const m = await expansion;
  expect(background).toBe(48 << 20);
  expect(m).toMatchObject({ type: 'expanded', size: 48 << 20 });
  expect((m as { digest: string }).digest).toMatch(/^sha256:[0-9a-f]{64}$/);
}, 60_000);
