// A streamed download of stored content (an uncompressed image, or any image once expanded) reads
// the stored layers ahead in spans (export-stream.ts StoredReader) instead of a Blob per file; and
// a digest check running when an export begins yields its core and starts again afterwards.
// Through the real coordinator modules in this thread, against fake-indexeddb.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ociArchive, seededBytes as bytes, tar, type Spec } from '../helpers/build.ts';
import { storedKeys, wiredCoordinator } from '../fuzz/storage-check.ts';
import { portReader } from './port-reader.ts';

const sha = async (blob: Blob) => createHash('sha256').update(new Uint8Array(await blob.arrayBuffer())).digest('hex');
const blobOf = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]);


/**
 * Uncompressed layers (stored as their content at the import): files around and across the 8 MiB
 * span size, files far apart (a gap larger than a span may skip), a file whose name sorts it before
 * its neighbours in the tar (read out of the layer's order), a hardlink, a replaced file.
 */
function image(): Uint8Array {
  const l1: Spec[] = [{ name: 'a/', kind: 'dir' }];
  for (let i = 0; i < 40; i++) l1.push({ name: `a/f${String(i).padStart(2, '0')}`, data: bytes(100_000 + i * 3000, i) });
  l1.push({ name: 'a/big', data: bytes(20 << 20, 99) }); // three spans
  l1.push({ name: 'a/exactly', data: bytes(8 << 20, 98) });
  l1.push({ name: 'a-b', data: bytes(5000, 97) }); // after a/… in the layer, before it in the tar
  l1.push({ name: 'z/', kind: 'dir' });
  l1.push({ name: 'z/far', data: bytes(300, 96) });
  l1.push({ name: 'z/hard', kind: 'hardlink', linkname: 'a/f01' });
  const l2: Spec[] = [
    { name: 'a/', kind: 'dir' },
    { name: 'a/f05', data: bytes(777, 5) }, // replaced
    { name: 'b/', kind: 'dir' },
    ...Array.from({ length: 300 }, (_, i): Spec => ({ name: `b/s${i}`, data: bytes(i * 7, 1000 + i) })),
  ];
  return ociArchive({ layers: [tar(l1), tar(l2)], compress: 'none' });
}

describe('stored content, streamed', () => {
  test.each([
    ['the whole image', undefined, undefined],
    ['as of layer 1', 0, undefined],
    ['a folder', undefined, '/a'],
  ])('%s: the streamed bytes are the composed Blob\'s', async (_what, layer, path) => {
    const { importImage } = await wiredCoordinator();
    const { exportTar, exportToPort } = await import('../../src/worker/coordinator/export.ts');
    const { stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
    const { deleteImage } = await import('../../src/storage/index.ts');
    const rec = await importImage(blobOf(image()), 'img.tar', {}, new AbortController().signal, () => {});
    expect(rec.packed ?? []).toEqual([]); // uncompressed: stored as content at the import
    const blob = await exportTar(rec.id, layer, path, false);
    const reader = portReader();
    let streaming = false;
    const kept = await exportToPort(rec.id, layer, path, false, reader.port, new AbortController().signal, () => { streaming = true; });
    expect(kept).toBeNull();
    expect(streaming).toBe(true);
    const streamed = (await reader.bytes)!;
    expect(streamed.size).toBe(blob.size);
    expect(await sha(streamed)).toBe(await sha(blob));
    await stopBackground(rec.id);
    await deleteImage(rec.id);
    expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
  }, 60_000);
});

test('a file of the next layer close behind the last one read is read from its own layer, not joined to the span before', async () => {
  const { importImage } = await wiredCoordinator();
  const { exportTar, exportToPort } = await import('../../src/worker/coordinator/export.ts');
  const { stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
  const { deleteImage } = await import('../../src/storage/index.ts');
  // the tar reads c/one (layer 1, bytes 1024–2024 of its tar) and then c/two (layer 2, from 5120:
  // 3 KiB past c/one's end, as offsets go): spans of one layer within 64 KiB are merged, these not
  const l1: Spec[] = [{ name: 'c/', kind: 'dir' }, { name: 'c/one', data: bytes(1000, 1) }];
  const l2: Spec[] = [{ name: 'd/', kind: 'dir' }, { name: 'd/pad', data: bytes(3000, 2) }, { name: 'c/', kind: 'dir' }, { name: 'c/two', data: bytes(2000, 3) }];
  const rec = await importImage(blobOf(ociArchive({ layers: [tar(l1), tar(l2)], compress: 'none' })), 'img.tar', {}, new AbortController().signal, () => {});
  const blob = await exportTar(rec.id, undefined, undefined, false);
  const reader = portReader();
  expect(await exportToPort(rec.id, undefined, undefined, false, reader.port, new AbortController().signal, () => {})).toBeNull();
  const streamed = (await reader.bytes)!;
  expect(await sha(streamed)).toBe(await sha(blob));
  // and the composed Blob holds each file's own bytes
  const tarBytes = new Uint8Array(await blob.arrayBuffer());
  const at = (name: string) => { for (let o = 0; o < tarBytes.length; o += 512) if (new TextDecoder().decode(tarBytes.subarray(o, o + 100)).replace(/\0.*$/s, '').replace(/^\.\//, '') === name) return o + 512; return -1; };
  expect(tarBytes.subarray(at('c/two'), at('c/two') + 2000)).toEqual(bytes(2000, 3));
  expect(tarBytes.subarray(at('c/one'), at('c/one') + 1000)).toEqual(bytes(1000, 1));
  await stopBackground(rec.id);
  await deleteImage(rec.id);
}, 60_000);

describe('digest checks yield to work the user waits for', () => {
  test.each([
    ['an export', async (id: string) => { const { exportTar } = await import('../../src/worker/coordinator/export.ts'); return exportTar(id, undefined, undefined, false); }],
    ['a written image (squash)', async (id: string) => {
      const { writeImage } = await import('../../src/worker/coordinator/write-image.ts');
      return writeImage(id, { op: 'squash', keep: 0, format: 'oci', compress: false, created: '2026-01-01T00:00:00Z' }, new AbortController().signal, () => {});
    }],
  ])('a check running when %s begins is stopped and done again after it: the layer ends verified', async (_what, work) => {
    const { importImage } = await wiredCoordinator();
    const { verifyLayer } = await import('../../src/worker/coordinator/verification.ts');
    const { stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
    const { deleteImage, readRecord } = await import('../../src/storage/index.ts');
    // loaded now: a module loaded while the check hashes in this thread would wait for it to end
    await import('../../src/worker/coordinator/export.ts');
    await import('../../src/worker/coordinator/write-image.ts');
    // one 96 MiB layer: its SHA-256 in JS takes a few hundred ms, long enough to be caught running
    const layerTar = tar([{ name: 'big', data: bytes(96 << 20, 7) }]);
    const digest = createHash('sha256').update(layerTar).digest('hex');
    const archive = ociArchive({ layers: [layerTar], compress: 'none', config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${digest}`] } } });
    const rec = await importImage(blobOf(archive), 'img.tar', {}, new AbortController().signal, () => {});
    const cancels: unknown[] = [];
    const order: string[] = [];
    let done: Promise<unknown> | null = null;
    const proto = MessagePort.prototype;
    const post = proto.postMessage;
    const send = post as (this: MessagePort, m: unknown, t?: Transferable[]) => void;
    proto.postMessage = function (this: MessagePort, m: unknown, t?: Transferable[]) {
      const type = (m as { type?: string })?.type;
      if (type === 'cancel') cancels.push(m);
      send.call(this, m, t);
      // the work begins as soon as the check's job is on a pool worker: not after a fixed time
      // (the worker runs in this thread here, and while it hashes, this thread's timers wait)
      if (type === 'verify' && !done) done = Promise.resolve().then(() => work(rec.id)).then(() => order.push('done'));
    } as typeof proto.postMessage;
    try {
      await verifyLayer(rec.id, 0).then(() => order.push('verified'));
      expect(done).not.toBeNull();
      await done;
      expect(cancels.length).toBeGreaterThan(0); // the running check was stopped…
      expect(order).toEqual(['done', 'verified']);
      expect((await readRecord(rec.id))!.layers[0].verify).toMatchObject({ state: 'verified' }); // …and done again
    } finally {
      proto.postMessage = post;
    }
    await stopBackground(rec.id);
    await deleteImage(rec.id);
  }, 60_000);
});
