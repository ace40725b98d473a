// Test-only page: the storage layer in a real Chromium (real IndexedDB, real Blob store), driven by
// chromium.test.ts and storage-bench.ts through `window.storageTest`.
import { clear, createStore, setMany } from 'idb-keyval';
import { stores } from '../../../src/storage/db.ts';
import * as storage from '../../../src/storage/index.ts';
import { firstDiff, makeMeta, makeTree, pattern } from '../make-image.ts';

const MiB = 1024 * 1024;

async function clearAll(): Promise<void> {
  await Promise.all([clear(stores.images), clear(stores.trees), clear(stores.content)]);
}

/** Stores a synthetic tree of `nodes` nodes; returns its id and how long the write took. */
async function writeTree(nodes: number) {
  const tree = makeTree(nodes);
  const t0 = performance.now();
  const id = await storage.beginImage(makeMeta('big'));
  await storage.putTree(id, tree);
  const done = await storage.commitImage(id);
  return { id, writeMs: performance.now() - t0, bytes: done.totalBytes };
}

/** Opens a stored image (meant to run after a reload); checks the tree against a fresh makeTree. */
async function readTree(id: string, nodes: number) {
  const t0 = performance.now();
  const { tree } = await storage.openImage(id);
  const readMs = performance.now() - t0;
  const want = makeTree(nodes) as unknown as Record<string, unknown>;
  const got = tree as unknown as Record<string, unknown>;
  const mismatched = Object.keys(want).filter((k) => {
    const a = want[k];
    const b = got[k];
    if (ArrayBuffer.isView(a)) return !ArrayBuffer.isView(b) || a.constructor !== b.constructor || firstDiff(a, b) !== -1;
    return JSON.stringify(a) !== JSON.stringify(b);
  });
  return { readMs, mismatched };
}

/** Writes `totalMiB` of pattern bytes in `pieceBytes` pieces; checks reads across chunk boundaries. */
async function contentRoundTrip(totalMiB: number, pieceBytes: number) {
  const total = totalMiB * MiB + 12345;
  const id = await storage.beginImage(makeMeta('content'));
  const source = pattern(0, total);
  const w = storage.createContentWriter(id, 0);
  const t0 = performance.now();
  for (let at = 0; at < total; at += pieceBytes) await w.write(source.subarray(at, Math.min(total, at + pieceBytes)));
  const size = await w.close();
  const writeMs = performance.now() - t0;
  await storage.putTree(id, makeTree(10));
  await storage.commitImage(id);
  const C = storage.CHUNK_SIZE;
  const ranges = [[0, 1], [C - 3, 10], [C - 100, C + 200], [total - 7, 7], [3 * C + 5, 65536]];
  const badRanges = [];
  for (const [o, n] of ranges) if (firstDiff(await storage.readRange(id, 0, o, n), pattern(o, n)) !== -1) badRanges.push([o, n]);
  const t1 = performance.now();
  const whole = new Uint8Array(await (await storage.layerContentBlob(id, 0)).arrayBuffer());
  const readMs = performance.now() - t1;
  return { size, total, writeMs, readMs, badRanges, wholeDiff: firstDiff(whole, source) };
}

/**
 * A layer of three chunks read `rounds` times, whole and by ranges across chunks, each read's Blobs
 * sliced and let go, with a full GC (when exposed) after each round: the reads an analysis and a
 * preview make of one layer. Counts the chunk records whose values were read out of IndexedDB (held-blobs.ts: each
 * record once) and the reads that came back wrong.
 */
async function rereads(rounds: number) {
  const C = storage.CHUNK_SIZE;
  const total = 2 * C + 4321;
  const id = await storage.beginImage(makeMeta('rereads'));
  await storage.storeLayerBlob(id, 0, new Blob([pattern(0, total)]), { slice: C });
  await storage.putTree(id, makeTree(4));
  await storage.commitImage(id);
  let valueReads = 0;
  const get = IDBObjectStore.prototype.get, getAll = IDBObjectStore.prototype.getAll;
  IDBObjectStore.prototype.get = function (this: IDBObjectStore, k: IDBValidKey | IDBKeyRange) { if (this.name === 'chunks') valueReads++; return get.call(this, k); };
  IDBObjectStore.prototype.getAll = function (this: IDBObjectStore, q?: IDBValidKey | IDBKeyRange | null, n?: number) {
    const req = getAll.call(this, q, n);
    if (this.name === 'chunks') req.addEventListener('success', () => { valueReads += req.result.length; });
    return req;
  };
  let wrong = 0;
  try {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let r = 0; r < rounds; r++) {
      const at = (r * 7919) % (total - 64);
      const whole = await storage.layerContentBlob(id, 0);
      const [a, b, c] = await Promise.all([
        whole.slice(at, at + 64).arrayBuffer(),
        storage.readRange(id, 0, C - 8 + (r % 16), 16),
        storage.readRange(id, 0, at, 64),
      ]);
      if (firstDiff(new Uint8Array(a), pattern(at, 64)) !== -1) wrong++;
      if (firstDiff(b, pattern(C - 8 + (r % 16), 16)) !== -1) wrong++;
      if (firstDiff(c, pattern(at, 64)) !== -1) wrong++;
      gc?.();
    }
    return { valueReads, wrong, gc: !!gc };
  } finally {
    IDBObjectStore.prototype.get = get;
    IDBObjectStore.prototype.getAll = getAll;
    await storage.deleteImage(id);
  }
}

/** storeLayerBlob with a File, as an uncompressed layer sliced from the dropped archive would be. */
async function fileRoundTrip(bytes: number) {
  const id = await storage.beginImage(makeMeta('file'));
  const file = new File([new Uint8Array(512), pattern(0, bytes)], 'image.tar');
  const size = await storage.storeLayerBlob(id, 0, file.slice(512));
  const back = new Uint8Array(await (await storage.layerContentBlob(id, 0)).arrayBuffer());
  return { size, diff: firstDiff(back, pattern(0, bytes)) };
}

/** Runs an import inside a module worker, as the app does; the page then reads it. */
function importInWorker(): Promise<{ id: string; estimate: unknown; persistence: string }> {
  const worker = new Worker(new URL('./storage-worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => { worker.terminate(); e.data.error ? reject(new Error(e.data.error)) : resolve(e.data); };
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage('go');
  });
}

/** Ids of the listed images and the first bytes of layer 0 of `id`. */
async function inspect(id: string) {
  const ids = (await storage.listImages()).map((r) => r.id);
  const head = await storage.readRange(id, 0, 0, 16);
  return { ids, headDiff: firstDiff(head, pattern(0, 16)) };
}

/** Stores `totalMiB` of zeros as layer 0 through the ContentWriter or storeLayerBlob; MB/s. */
async function writeBig(totalMiB: number, via: 'writer' | 'blob') {
  const id = await storage.beginImage(makeMeta('big-content'));
  const piece = new Uint8Array(MiB);
  const t0 = performance.now();
  if (via === 'writer') {
    const w = storage.createContentWriter(id, 0);
    for (let i = 0; i < totalMiB; i++) await w.write(piece);
    await w.close();
  } else {
    await storage.storeLayerBlob(id, 0, new Blob(Array.from({ length: totalMiB }, () => piece)));
  }
  const ms = performance.now() - t0;
  await storage.abortImage(id);
  return { via, totalMiB, ms, mbPerS: (totalMiB * MiB) / 1e6 / (ms / 1000) };
}

/**
 * Raw write throughput of one chunk size, batch size and value kind (Blob, or the bytes as a
 * Uint8Array), through idb-keyval's setMany. Every chunk gets a fresh buffer, as ContentWriter does.
 */
async function benchChunks(chunkMiB: number, batchMiB: number, totalMiB: number, value: 'blob' | 'bytes') {
  const store = createStore('strata-bench', 'chunks');
  await clear(store);
  const perBatch = Math.max(1, batchMiB / chunkMiB);
  const t0 = performance.now();
  for (let i = 0; i < totalMiB / chunkMiB;) {
    const batch: [IDBValidKey, Blob | Uint8Array][] = [];
    for (let j = 0; j < perBatch; j++, i++) {
      const bytes = new Uint8Array(chunkMiB * MiB).fill(i & 255);
      batch.push([i, value === 'blob' ? new Blob([bytes]) : bytes]);
    }
    await setMany(batch, store);
  }
  const ms = performance.now() - t0;
  await clear(store);
  return { ms, mbPerS: (totalMiB * MiB) / 1e6 / (ms / 1000) };
}

const api = { storage, clearAll, writeTree, readTree, contentRoundTrip, rereads, fileRoundTrip, importInWorker, inspect, writeBig, benchChunks };
export type StorageTestApi = typeof api;
(globalThis as unknown as { storageTest: StorageTestApi }).storageTest = api;
