// An export asked for while the layers are still being expanded must give the same bytes as one
// made after the expansion. It once composed the stored start of each layer with the pieces
// inflated since, and let a piece go when it was queued for a write rather than when IndexedDB
// had committed it: an export asked for in between failed ("has no stored content") or composed a
// short stored start (a shifted, corrupt tar). The export now waits for the stored content; this
// keeps both honest. Run in this thread through the real coordinator modules (pool and merge
// worker wired as the fuzzer does), against fake-indexeddb, with the export asked for exactly
// while a batch of expanded content is being written.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeBigImage } from '../browser/big-image.ts';
import { ociArchive, tar } from '../helpers/build.ts';
import { storedKeys, wiredCoordinator } from '../fuzz/storage-check.ts';
import { portReader } from './port-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-export-expansion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = async (blob: Blob) => createHash('sha256').update(new Uint8Array(await blob.arrayBuffer())).digest('hex');

/**
 * Calls `fn` when the `n`-th batch of expanded content is handed to IndexedDB (before it commits):
 * the moment at which pieces are queued for a write but not stored.
 */
function atContentWrite(n: number, fn: () => void): () => void {
  const proto = (globalThis as unknown as { IDBObjectStore: { prototype: IDBObjectStore } }).IDBObjectStore.prototype;
  const put = proto.put;
  let batches = 0;
  let lastTx: IDBTransaction | null = null;
  proto.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    if (this.transaction.db.name === 'strata-content' && this.transaction !== lastTx) {
      lastTx = this.transaction;
      if (++batches === n) queueMicrotask(fn);
    }
    return put.call(this, value, key);
  };
  return () => { proto.put = put; };
}

/**
 * After the expansion: the export from the stored content, as a Blob and to a port (the two
 * must be equal); its size and sha-256.
 */
async function storedExport(id: string): Promise<{ size: number; sha: string }> {
  const { exportTar, exportToPort, rememberTree } = await import('../../src/worker/coordinator/export.ts');
  rememberTree(id, null);
  const tar = await exportTar(id, undefined, undefined, false);
  // stored content streams too (read ahead in spans), byte for byte the composed Blob
  const reader = portReader();
  let streaming = false;
  const blob = await exportToPort(id, undefined, undefined, false, reader.port, new AbortController().signal, () => { streaming = true; });
  expect(blob).toBeNull();
  expect(streaming).toBe(true);
  // the browser still writes the file after the last chunk: background work waits a moment more
  const { foregroundIdle } = await import('../../src/worker/coordinator/pool.ts');
  let idle = false;
  void foregroundIdle().then(() => { idle = true; });
  await new Promise((r) => setTimeout(r, 60));
  expect(idle).toBe(false);
  const streamed = await reader.bytes;
  const digest = await sha(tar);
  expect(streamed && await sha(streamed)).toBe(digest);
  return { size: tar.size, sha: digest };
}

/** Deletes the image: every store is empty after. */
async function removeImage(id: string): Promise<void> {
  const { stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
  const { deleteImage } = await import('../../src/storage/index.ts');
  await stopBackground(id);
  await deleteImage(id);
  expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
}

describe('export while the layers are being expanded', () => {
  // 3 gzip layers: 12 MiB (less than one 16 MiB write batch) and 40 MiB (three batches)
  const small = join(dir, 'small.tar');
  const large = join(dir, 'large.tar');
  writeBigImage(small, { layers: 3, filesPerLayer: 12, fileBytes: 1 << 20 });
  writeBigImage(large, { layers: 2, filesPerLayer: 10, fileBytes: 4 << 20 });

  test.each([
    ['layers smaller than a batch', small, 1],
    ['a second batch of a layer', large, 2],
    ['the third batch', large, 3],
  ])('%s, asked for when that batch is being written: the same bytes as after the expansion', async (_what, path, n) => {
    const { importImage } = await wiredCoordinator();
    const { expandAll, stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
    const { exportTar, rememberTree } = await import('../../src/worker/coordinator/export.ts');
    const { deleteImage, readRecord } = await import('../../src/storage/index.ts');
    const rec = await importImage(new Blob([readFileSync(path)]), 'big.tar', {}, new AbortController().signal, () => {});
    expect(rec.packed?.length).toBeGreaterThan(1);
    let early: Promise<Blob | Error> | null = null;
    const restore = atContentWrite(n, () => { early = exportTar(rec.id, undefined, undefined, false).catch((e: Error) => e); });
    try {
      await expandAll(rec);
    } finally {
      restore();
    }
    expect(early).not.toBeNull();
    const earlyTar = await early!;
    if (earlyTar instanceof Error) throw earlyTar;
    expect((await readRecord(rec.id))?.packed ?? []).toEqual([]); // every layer stored expanded
    rememberTree(rec.id, null);
    const late = await exportTar(rec.id, undefined, undefined, false);
    expect(earlyTar.size).toBe(late.size);
    expect(await sha(earlyTar)).toBe(await sha(late));
    await stopBackground(rec.id);
    await deleteImage(rec.id);
    expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
  }, 60_000);

  async function exportBothWays(bytes: Uint8Array, expectStreamed: boolean): Promise<void> {
    const { importImage } = await wiredCoordinator();
    const { expandAll } = await import('../../src/worker/coordinator/expansion.ts');
    const { exportTar, exportToPort } = await import('../../src/worker/coordinator/export.ts');
    const rec = await importImage(new Blob([bytes as Uint8Array<ArrayBuffer>]), 'x.tar', {}, new AbortController().signal, () => {});
    // asked for before any expansion has started: the packed layers are inflated into the tar…
    const early = await exportTar(rec.id, undefined, undefined, false);
    // …and into a streamed download's port (the service worker's reader here)…
    const reader = portReader();
    let streaming = false;
    const kept = await exportToPort(rec.id, undefined, undefined, false, reader.port, new AbortController().signal, () => { streaming = true; });
    // (past the late-file limit, the Blob export above waited for the stored content: this one
    // streams that)
    expect(streaming).toBe(true);
    expect(kept).toBeNull();
    const streamed = (await reader.bytes)!;
    // …and nothing was expanded for them (composing from stored content would have expanded them)
    expect((await storedKeys())['content'] === 0).toBe(expectStreamed);
    await expandAll(rec);
    const late = await storedExport(rec.id);
    expect(early.size).toBe(late.size);
    expect(await sha(early)).toBe(late.sha);
    expect(await sha(streamed)).toBe(late.sha);
    await removeImage(rec.id);
  }

  test('asked for before the expansion starts: packed layers are inflated straight into the tar, the same bytes', async () => {
    await exportBothWays(readFileSync(large), true);
  }, 60_000);

  test('layer tars out of the tar\'s path order: the files read late are kept as the inflate passes them, the same bytes', async () => {
    const big = (c: number) => new Uint8Array(300 << 10).fill(c);
    const l1 = tar([{ name: 'z/', kind: 'dir' }, { name: 'z/late', data: big(1) }, { name: 'a/', kind: 'dir' }, { name: 'a/early', data: big(2) }, { name: 'm', data: 'middle\n' }]);
    const l2 = tar([{ name: 'b', data: big(3) }, { name: 'a/early', data: 'replaced\n' }]);
    await exportBothWays(ociArchive({ layers: [l1, l2] }), true);
  }, 60_000);

  test('hardlinks into a lower layer, streamed: the same bytes', async () => {
    const big = new Uint8Array(300 << 10).fill(7);
    const l1 = tar([{ name: 'a/', kind: 'dir' }, { name: 'a/f', data: big }, { name: 'z', data: 'zz\n' }]);
    const l2 = tar([{ name: 'b/', kind: 'dir' }, { name: 'b/l1', kind: 'hardlink', linkname: 'a/f' }, { name: 'c/', kind: 'dir' }, { name: 'c/l2', kind: 'hardlink', linkname: 'a/f' }]);
    await exportBothWays(ociArchive({ layers: [l1, l2] }), true);
  }, 60_000);

  test('bytes the plan did not keep (a read behind the inflate) inflate that layer again: the same bytes', async () => {
    const { importImage } = await wiredCoordinator();
    const { expandAll } = await import('../../src/worker/coordinator/expansion.ts');
    const { treeOf } = await import('../../src/worker/coordinator/export.ts');
    const { BlobSink, streamedTar } = await import('../../src/worker/coordinator/export-stream.ts');
    const { tarRecords } = await import('../../src/core/export/tar-export.ts');
    const big = (c: number) => new Uint8Array(300 << 10).fill(c);
    const l1 = tar([{ name: 'z/', kind: 'dir' }, { name: 'z/late', data: big(1) }, { name: 'a/', kind: 'dir' }, { name: 'a/early', data: big(2) }, { name: 'y/', kind: 'dir' }, { name: 'y/late', data: big(3) }, { name: 'm', data: 'middle\n' }]);
    const rec = await importImage(new Blob([ociArchive({ layers: [l1] }) as Uint8Array<ArrayBuffer>]), 'x.tar', {}, new AbortController().signal, () => {});
    const tree = await treeOf(rec.id);
    const sink = new BlobSink();
    // an empty plan: nothing is kept, so z/late and y/late are each read behind the inflate
    expect(await streamedTar(rec.id, tree, tarRecords(tree), [], sink)).toBe(true);
    expect((await storedKeys())['content']).toBe(0);
    await expandAll(rec);
    expect(await sha(sink.result())).toBe((await storedExport(rec.id)).sha);
    await removeImage(rec.id);
  }, 60_000);

  test('a download cancelled by the browser stops the export with ABORTED; the image stays whole and exports again', async () => {
    const { importImage } = await wiredCoordinator();
    const { expandAll } = await import('../../src/worker/coordinator/expansion.ts');
    const { exportToPort } = await import('../../src/worker/coordinator/export.ts');
    const rec = await importImage(new Blob([readFileSync(large)]), 'big.tar', {}, new AbortController().signal, () => {});
    const reader = portReader(2);
    const run = exportToPort(rec.id, undefined, undefined, false, reader.port, new AbortController().signal, () => {});
    expect((await reader.bytes)?.size).toBe(8 << 20);
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    // cancelled from the page (the engine call's signal): the port gets an error
    const ctl = new AbortController();
    const second = portReader();
    const run2 = exportToPort(rec.id, undefined, undefined, false, second.port, ctl.signal, () => {});
    ctl.abort();
    await expect(second.bytes).rejects.toThrow(/cancelled/);
    await run2.catch(() => {});
    // a download the browser never asked for (blocked): the service worker lets go of it, with a message
    const blocked = new MessageChannel();
    const run3 = exportToPort(rec.id, undefined, undefined, false, blocked.port2, new AbortController().signal, () => {});
    blocked.port1.postMessage({ type: 'unclaimed' });
    await expect(run3).rejects.toThrow(/did not start the download.*blocked/);
    blocked.port1.close();
    await expandAll(rec);
    await storedExport(rec.id);
    await removeImage(rec.id);
  }, 60_000);

  const reversed = () => {
    const names = Array.from({ length: 4200 }, (_, i) => `f${String(i).padStart(4, '0')}`).reverse();
    return ociArchive({ layers: [tar([{ name: 'd/', kind: 'dir' }, ...names.map((n) => ({ name: `d/${n}`, data: `${n}\n` }))])] });
  };

  test('a layer that gives most files out of order (a tar in directory order): they are kept as the inflate passes them, the same bytes', async () => {
    await exportBothWays(reversed(), true);
  }, 60_000);

  test('more files out of order than the limit: the export waits for the stored content, the same bytes', async () => {
    const { LATE_LIMITS } = await import('../../src/worker/coordinator/export-stream.ts');
    const files = LATE_LIMITS.files;
    LATE_LIMITS.files = 4096;
    try {
      await exportBothWays(reversed(), false);
    } finally {
      LATE_LIMITS.files = files;
    }
  }, 60_000);
});
