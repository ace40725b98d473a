// The coordinator: owns an import from File to committed IndexedDB records. It opens the archive,
// fans layer decoding out to the pool (over MessagePorts), has the merge worker apply the layers
// strictly in order, stores each layer as the archive shipped it (a copy of the File that no byte
// of passes through JS) while layers decode, and commits. Then, off the critical path, it expands
// the compressed layers into their decompressed streams (reads wait for the layer they need) and
// verifies digests.
/// <reference lib="webworker" />
import { blobSpool, jsSha256, type CoreEnv } from '../core/env.ts';
import { StrataError, toErrorInfo } from '../core/errors.ts';
import { openArchive, type LayerSource } from '../core/archive/open.ts';
import { layerLabel } from '../core/layers/decode.ts';
import { tarRecords } from '../core/export/tar-export.ts';
import { windowedTarBlob, windowBlob, type WindowBuilder } from './tar-blob.ts';
import type { EncodedTree, LayerInfo, LayerVerify } from '../core/model.ts';
import { columnBuffers } from './entry-columns.ts';
import * as storage from '../storage/index.ts';
import type { ImportProgress, ImageSelector, StoredImage } from '../app/engine-api.ts';
import type { Job, JobReply, MergeReply, MergeRequest, Reply, RequestMessage } from './protocol.ts';

const env: CoreEnv = { spool: () => blobSpool(4 << 20), sha256: jsSha256 };
const post = (m: Reply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

// ---- the decode pool -------------------------------------------------------------------------
interface PoolWorker { port: MessagePort; busy: boolean }
const pool: PoolWorker[] = [];
/**
 * Callers waiting for a free pool worker: imports and exports first, background work (expanding
 * stored layers, digest checks) after — an import must not queue behind another image's expansion.
 */
const waiting = { now: [] as (() => void)[], later: [] as (() => void)[] };
const wakeNext = () => (waiting.now.shift() ?? waiting.later.shift())?.();
const handlers = new Map<number, (m: JobReply) => void>();
let nextJob = 1;

function addPort(port: MessagePort): void {
  const w: PoolWorker = { port, busy: false };
  port.onmessage = (ev: MessageEvent<JobReply>) => handlers.get(ev.data.job)?.(ev.data);
  pool.push(w);
  wakeNext();
}

async function acquire(signal: AbortSignal | undefined, background: boolean): Promise<PoolWorker> {
  for (let woken = false; ; woken = true) {
    if (signal?.aborted) {
      if (woken) wakeNext(); // the worker we were woken for is free: pass it on
      throw new StrataError('ABORTED', 'The import was cancelled.');
    }
    const free = pool.find((w) => !w.busy);
    if (free) { free.busy = true; return free; }
    await new Promise<void>((r) => (background ? waiting.later : waiting.now).push(r));
  }
}

function release(w: PoolWorker): void {
  w.busy = false;
  wakeNext();
}

/** What a decode job streams back: a piece of a layer's content, and how to hand its buffer back. */
type OnContent = (chunk: Uint8Array<ArrayBuffer>, ack: () => void) => void;

/** run one job on a pool worker; resolves with its final reply. Expansions and digest checks are background work. */
async function runJob(job: Job & { type: 'decode' | 'expand' | 'verify' | 'tarWindow' }, signal: AbortSignal | undefined, onProgress?: (a: number, b: number) => void, onContent?: OnContent): Promise<JobReply> {
  const w = await acquire(signal, job.type === 'expand' || job.type === 'verify');
  const id = job.job;
  try {
    return await new Promise<JobReply>((resolve, reject) => {
      const onAbort = () => { w.port.postMessage({ type: 'cancel', job: id } satisfies Job); reject(new StrataError('ABORTED', 'The import was cancelled.')); };
      if (signal?.aborted) { onAbort(); return; }
      signal?.addEventListener('abort', onAbort, { once: true });
      handlers.set(id, (m) => {
        if (m.type === 'progress') { onProgress?.(m.bytesIn, m.bytesOut); return; }
        if (m.type === 'content') {
          const buffer = m.chunk.buffer;
          onContent?.(m.chunk, () => w.port.postMessage({ type: 'ack', job: id, buffer } satisfies Job, [buffer]));
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        handlers.delete(id);
        if (m.type === 'error') reject(new StrataError(m.error.code === 'INTERNAL' ? 'IO' : m.error.code, m.error.message));
        else resolve(m);
      });
      w.port.postMessage(job);
    });
  } finally {
    release(w);
  }
}

// ---- the merge worker ---------------------------------------------------------------------------
// Started on first use and shared by imports (each has its own merge id). Replies come back in
// request order per merge, so each merge keeps a queue of callers.
let merger: Worker | null = null;
const mergeCallers = new Map<number, ((m: MergeReply) => void)[]>();
let nextMerge = 1;

function startMerger(): Worker {
  const w = new Worker(new URL('./merge.worker.ts', import.meta.url), { type: 'module', name: 'strata-merge' });
  w.onmessage = (ev: MessageEvent<MergeReply>) => {
    const q = mergeCallers.get(ev.data.merge);
    q?.shift()?.(ev.data);
    if (q && !q.length) mergeCallers.delete(ev.data.merge);
  };
  w.onerror = (ev) => {
    ev.preventDefault();
    const error = { code: 'IO' as const, message: `The merge worker failed: ${ev.message || 'unknown error'}. Reload the page.` };
    for (const [merge, q] of mergeCallers) for (const c of q) c({ type: 'error', merge, error });
    mergeCallers.clear();
    merger = null;
  };
  return w;
}

async function mergeCall<T extends MergeReply['type']>(req: MergeRequest, transfer: Transferable[] = []): Promise<MergeReply & { type: T }> {
  merger ??= startMerger();
  const m = await new Promise<MergeReply>((resolve) => {
    const q = mergeCallers.get(req.merge) ?? [];
    mergeCallers.set(req.merge, q);
    q.push(resolve);
    merger!.postMessage(req, transfer);
  });
  if (m.type === 'error') throw new StrataError(m.error.code === 'INTERNAL' ? 'IO' : m.error.code, m.error.message);
  return m as MergeReply & { type: T };
}

// ---- import ------------------------------------------------------------------------------------
/** Progress is reported at least this often, whether or not bytes moved (the UI shows it is alive). */
const PROGRESS_MS = 50;

interface LayerImport {
  decoded: Promise<JobReply & { type: 'decoded' }>;
  /** resolves with the stored size once every byte of the layer is in IndexedDB */
  stored: Promise<number>;
}

/**
 * Decodes one layer on the pool (for its entries) and stores it meanwhile, straight from the
 * archive: an uncompressed layer as its content, a compressed one packed (as shipped), to be
 * expanded after the commit. Inflating and storing the inflated stream during the import cost
 * the 2-core bench machine ~40 % more wall time than inflating alone (README, browser bench).
 */
function importLayer(imageId: string, l: LayerSource, stop: AbortSignal, fail: (e: unknown) => void, onProgress: (bytesIn: number) => void): LayerImport {
  const stored = storage.storeLayerBlob(imageId, l.info.index, l.blob, { packed: l.info.compression !== 'none' });
  stored.catch(fail);
  const decoded = runJob({ type: 'decode', job: nextJob++, info: l.info, blob: l.blob }, stop, onProgress) as LayerImport['decoded'];
  return { decoded, stored };
}

async function importImage(file: Blob, name: string, sel: ImageSelector, signal: AbortSignal, progress: (p: ImportProgress) => void): Promise<string> {
  const p: ImportProgress = { phase: 'reading', bytesRead: 0, bytesTotal: file.size, layer: 0, layers: 0 };
  let lastSent = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (force || now - lastSent >= PROGRESS_MS) { lastSent = now; progress({ ...p }); }
  };
  report(true);
  const beat = setInterval(report, PROGRESS_MS);
  try {
    const archive = await openArchive(file, name, env, signal);
    const img = await archive.resolve(sel);
    const n = img.layers.length;
    p.layers = n;
    p.layer = Math.min(1, n); // 1-based: the first layer is being decoded
    p.phase = 'decoding';
    p.bytesTotal = img.layers.reduce((a, l) => a + l.blob.size, 0);
    for (const l of img.meta.layers) l.verify = { state: 'pending' };
    const imageId = await storage.beginImage(img.meta);
    const merge = nextMerge++;
    // One switch stops every decode job: the user's cancel, the first storage failure, or any error.
    const stop = new AbortController();
    let failure: unknown = null;
    const fail = (e: unknown) => { failure ??= e; stop.abort(); };
    const onCancel = () => stop.abort();
    signal.addEventListener('abort', onCancel, { once: true });
    try {
      const read = new Array<number>(n).fill(0);
      // Largest first: the pool's makespan is bounded by the biggest layer, so it must not wait
      // behind small ones. Merging stays in layer order.
      const layers = new Array<LayerImport>(n);
      for (const l of [...img.layers].sort((a, b) => b.blob.size - a.blob.size)) {
        layers[l.info.index] = importLayer(imageId, l, stop.signal, fail, (bytesIn) => {
          read[l.info.index] = bytesIn;
          p.bytesRead = read.reduce((a, b) => a + b, 0);
        });
      }
      // awaited below, in layer order (so a decode error names the lowest bad layer, as before);
      // storage failures stop everything at once through `fail`
      for (const l of layers) { l.decoded.catch(() => {}); l.stored.catch(() => {}); }
      await mergeCall({ type: 'begin', merge, layers: n });
      for (let i = 0; i < n; i++) {
        const d = await layers[i].decoded;
        if (signal.aborted) throw new StrataError('ABORTED', 'The import was cancelled.');
        read[i] = img.layers[i].blob.size;
        p.layer = i + 1;
        report(true);
        // awaited layer by layer, so a merge error of a lower layer wins over a later decode error
        const info = img.meta.layers[i];
        const { counts } = await mergeCall<'counts'>({ type: 'layer', merge, index: i, entries: d.entries, what: layerLabel(info, n) }, columnBuffers(d.entries));
        Object.assign(info, counts, { size: d.size });
      }
      p.phase = 'storing';
      report(true);
      const { tree } = await mergeCall<'tree'>({ type: 'encode', merge });
      await Promise.all([...layers.map((l) => l.stored), storage.putTree(imageId, tree)]);
      await storage.updateImageMeta(imageId, img.meta);
      if (signal.aborted) throw new StrataError('ABORTED', 'The import was cancelled.');
      const rec = await storage.commitImage(imageId);
      p.phase = 'done';
      report(true);
      void settle(rec);
      return imageId;
    } catch (e) {
      // decided before stopping: stopping makes the other layers' writes fail too
      const why = signal.aborted ? e : failure ?? e;
      stop.abort();
      void mergeCall({ type: 'drop', merge }).catch(() => {});
      await storage.abortImage(imageId).catch(() => {});
      throw why;
    } finally {
      signal.removeEventListener('abort', onCancel);
    }
  } finally {
    clearInterval(beat);
  }
}

// ---- expansion: a packed layer's decompressed stream into storage --------------------------------
/**
 * `${imageId}:${layer}` -> that layer's expansion in this worker: `done` settles when its content is
 * stored (settled entries stay: known expanded); while `running`, `upTo` bytes of the stream are
 * stored and `waiters` are reads waiting for more.
 */
interface ExpansionState { done: Promise<void>; running: boolean; upTo: number; waiters: Set<() => void> }
const expansions = new Map<string, ExpansionState>();
const expandedAlready = (): ExpansionState => ({ done: Promise.resolve(), running: false, upTo: 0, waiters: new Set() });
/** per image: stops its expansions and digest checks (on delete) */
const expansionStops = new Map<string, AbortController>();
function stopOf(imageId: string): AbortSignal {
  let stop = expansionStops.get(imageId);
  if (!stop) expansionStops.set(imageId, (stop = new AbortController()));
  return stop.signal;
}

/**
 * Expands `layer` of `imageId` unless it is done or under way here; resolves once its content is
 * stored. Another tab expanding the same layer is waited for (its lock), then found done.
 */
function ensureExpanded(imageId: string, layer: number): Promise<void> {
  const key = `${imageId}:${layer}`;
  const known = expansions.get(key);
  if (known) return known.done;
  const x: ExpansionState = { done: Promise.resolve(), running: true, upTo: 0, waiters: new Set() };
  x.done = expandLayer(imageId, layer, stopOf(imageId), (n) => { x.upTo = n; for (const w of x.waiters) w(); });
  expansions.set(key, x);
  // a failed expansion is tried again by the next read that needs the layer
  x.done.then(() => post({ type: 'expanded', imageId, layer }), (e: unknown) => {
    expansions.delete(key);
    post({ type: 'expanded', imageId, layer, error: toErrorInfo(e) });
  }).finally(() => { x.running = false; });
  return x.done;
}

async function expandLayer(imageId: string, layer: number, signal: AbortSignal, onStored: (bytes: number) => void): Promise<void> {
  const release = await storage.holdExpansionLock(imageId, layer);
  try {
    const x = await storage.beginExpansion(imageId, layer, { signal, onStored });
    if (!x) return; // expanded already (by another tab, or before a reload)
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let failure: unknown = null;
    try {
      let queue: Promise<void> = Promise.resolve();
      const m = await runJob({ type: 'expand', job: nextJob++, info: x.info, blob: x.packed }, stop.signal, undefined, (chunk, ack) => {
        queue = queue.then(() => x.writer.write(chunk)).then(ack);
        queue.catch((e: unknown) => { failure ??= e; stop.abort(); });
      }) as JobReply & { type: 'expanded' };
      await queue;
      if (x.info.size !== undefined && m.size !== x.info.size) {
        throw new StrataError('STORAGE', `Expanding ${x.what}: it decompressed to ${m.size} bytes, but to ${x.info.size} when it was imported. The stored copy is damaged; delete the image and import it again.`);
      }
      await x.finish(m.digest);
    } catch (e) {
      await x.abort();
      throw storage.expansionError(signal.aborted ? e : failure ?? e, x.what);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    release();
  }
}

/** Expands every packed layer of a stored image, largest first (the pool's makespan); never rejects. */
function expandAll(rec: storage.StoredImage): Promise<unknown> {
  const size = (l: number) => rec.layers[l]?.size ?? 0;
  const order = [...(rec.packed ?? [])].sort((a, b) => size(b) - size(a));
  return Promise.allSettled(order.map((l) => ensureExpanded(rec.id, l)));
}

/** Starts the expansions `layers` still need (per the record); resolves with one promise per layer. */
async function startExpansions(imageId: string, layers: Iterable<number>): Promise<Promise<void>[]> {
  const all = [...layers];
  const todo = all.filter((l) => !expansions.has(`${imageId}:${l}`));
  if (todo.length) {
    const rec = await storage.readRecord(imageId);
    for (const l of todo) {
      if (rec?.packed?.includes(l)) void ensureExpanded(imageId, l).catch(() => {});
      else if (rec) expansions.set(`${imageId}:${l}`, expandedAlready()); // stored expanded
    }
  }
  return all.map((l) => expansions.get(`${imageId}:${l}`)?.done ?? Promise.resolve());
}

/** Before reading whole layers (an export): each must be expanded (waits for it, or starts it). */
async function expanded(imageId: string, layers: Iterable<number>): Promise<void> {
  await Promise.all(await startExpansions(imageId, layers));
}

/**
 * Before reading bytes [0, end) of `layer` (a file's content): waits until its expansion has
 * stored that far — a file near the start of a big layer is readable long before the layer is done.
 */
async function readable(imageId: string, layer: number, end: number): Promise<void> {
  const [whole] = await startExpansions(imageId, [layer]);
  const x = expansions.get(`${imageId}:${layer}`);
  if (!x?.running) return whole; // done, failed, or not packed
  if (x.upTo >= end) return;
  await new Promise<void>((resolve, reject) => {
    const wake = () => { if (x.upTo >= end) { x.waiters.delete(wake); resolve(); } };
    x.waiters.add(wake);
    whole.then(() => { x.waiters.delete(wake); resolve(); }, (e: unknown) => { x.waiters.delete(wake); reject(e); });
  });
}

/**
 * Stops this worker's expansions and digest checks of `imageId` and waits until the expansions
 * have settled (before a delete; a stopped digest check writes nothing).
 */
async function stopBackground(imageId: string): Promise<void> {
  expansionStops.get(imageId)?.abort();
  expansionStops.delete(imageId);
  const mine = [...expansions].filter(([k]) => k.startsWith(`${imageId}:`));
  await Promise.allSettled(mine.map(([, x]) => x.done));
  for (const [k] of mine) expansions.delete(k);
}

/**
 * What follows a commit (and a start-up, for what a closed tab left undone): expand the packed
 * layers, then check every pending layer's digests. Never rejects.
 */
async function settle(rec: storage.StoredImage): Promise<void> {
  await expandAll(rec);
  const pending = rec.layers.filter((l) => l.verify?.state === 'pending').map((l) => l.index);
  await Promise.allSettled(pending.map((l) => verifyLayer(rec.id, l)));
}

/**
 * Digest checks, off the critical path (the tree is browsable meanwhile): the compressed blob's
 * sha256 taken while expanding it (kept in the record), the stored content for the diff_id (and
 * for both of an uncompressed layer). The result is stored and posted.
 */
async function verifyLayer(imageId: string, layer: number): Promise<void> {
  const stop = stopOf(imageId);
  const release = await storage.holdExpansionLock(imageId, layer);
  try {
    const rec = await storage.readRecord(imageId);
    const info = rec?.status === 'ready' ? rec.layers.find((l) => l.index === layer) : undefined;
    if (!info || info.verify?.state !== 'pending') return; // deleted, or verified by another tab
    let verify: LayerVerify;
    if (rec!.packed?.includes(layer)) {
      // its expansion failed (and said why): there is no content to hash
      verify = { state: 'unverifiable', detail: 'its content could not be stored decompressed, so its diff_id cannot be checked (the error is shown when one of its files is opened)' };
    } else {
      const compressed = info.compression === 'none' ? null : rec!.digests?.[layer] ?? null;
      verify = await storage.layerContentBlob(imageId, layer)
        .then((content) => runJob({ type: 'verify', job: nextJob++, info, compressed, content }, stop))
        .then((m) => (m as JobReply & { type: 'verified' }).verify)
        .catch((e): LayerVerify => ({ state: 'unverifiable', detail: toErrorInfo(e).message }));
    }
    if (stop.aborted) return; // being deleted
    await storage.setVerify(imageId, layer, verify).catch(() => {});
    post({ type: 'verify', imageId, layer, verify });
  } finally {
    release();
  }
}

// ---- reads and exports ---------------------------------------------------------------------------
let cached: { id: string; tree: EncodedTree } | null = null;

async function treeOf(imageId: string): Promise<EncodedTree> {
  if (cached?.id !== imageId) cached = { id: imageId, tree: (await storage.openImage(imageId)).tree };
  return cached.tree;
}

async function exportTar(imageId: string, layer: number | undefined, path: string | undefined, gzip: boolean | undefined): Promise<Blob> {
  const tree = await treeOf(imageId);
  const contents: Blob[] = [];
  // only layers that hold file content are read; a missing one is an error, never an empty file
  const needed = new Set<number>();
  for (let i = 0; i < tree.iType.length; i++) if (tree.iSize[i] > 0 && tree.iLayer[i] >= 0) needed.add(tree.iLayer[i]);
  await expanded(imageId, needed);
  for (let l = 0; l < tree.layerCount; l++) contents.push(needed.has(l) ? await storage.layerContentBlob(imageId, l) : new Blob([]));
  // Pool workers build the windows in parallel while this thread makes the records. Right after
  // an import they may all be verifying (for a while): then this thread builds them itself.
  const free = pool.filter((w) => !w.busy).length;
  const build: WindowBuilder = free
    ? (records) => runJob({ type: 'tarWindow', job: nextJob++, records, contents }, undefined).then((m) => (m as JobReply & { type: 'window' }).blob)
    : (records) => windowBlob(records, (l) => contents[l]);
  const tar = await windowedTarBlob(tarRecords(tree, { layer, path }), build, free + 1)
    .catch((e: unknown) => { throw e instanceof StrataError ? e : new StrataError('STORAGE', `Reading the stored content of image ${imageId} for the export: ${toErrorInfo(e).message}. Delete the image and import it again.`, { cause: e }); });
  if (!gzip) return tar;
  return new Response(tar.stream().pipeThrough(new CompressionStream('gzip'))).blob();
}

function toStored(r: storage.StoredImage): StoredImage {
  const { id, importedAt, totalBytes, status: _s, packed: _p, ...meta } = r;
  return { id, importedAt, totalBytes, meta };
}

// ---- message loop --------------------------------------------------------------------------------
const aborts = new Map<number, AbortController>();
// start-up: remove what interrupted imports left, then finish the expansions and digest checks a
// closed tab cut short
const ready = storage.cleanupOrphans().catch(() => null);
void ready.then(() => storage.listImages()).then((all) => { for (const r of all) void settle(r); }).catch(() => {});

self.onmessage = async (ev: MessageEvent<RequestMessage | { type: 'port'; port: MessagePort }>) => {
  const m = ev.data;
  if (m.type === 'port') { addPort(m.port); return; }
  if (m.type === 'cancel') { aborts.get(m.target)?.abort(); return; }
  const ctl = new AbortController();
  aborts.set(m.id, ctl);
  try {
    await ready;
    switch (m.type) {
      case 'inspect': {
        const a = await openArchive(m.file, m.name, env, ctl.signal);
        post({ type: 'result', id: m.id, value: a.info });
        break;
      }
      case 'import': {
        const id = await importImage(m.file, m.name, m.sel, ctl.signal, (progress) => post({ type: 'progress', id: m.id, progress }));
        post({ type: 'result', id: m.id, value: id });
        break;
      }
      case 'list': post({ type: 'result', id: m.id, value: (await storage.listImages()).map(toStored) }); break;
      case 'open': {
        const { meta, tree } = await storage.openImage(m.imageId);
        cached = { id: m.imageId, tree };
        // structured clone copies the typed arrays (a memcpy); we keep ours for exports
        post({ type: 'result', id: m.id, value: { meta: toStored(meta).meta, tree, packed: meta.packed ?? [] } });
        break;
      }
      case 'readRange': {
        await readable(m.imageId, m.layer, m.offset + m.length);
        const bytes = await storage.readRange(m.imageId, m.layer, m.offset, m.length);
        post({ type: 'result', id: m.id, value: bytes }, [bytes.buffer]);
        break;
      }
      case 'fileBlob': {
        await readable(m.imageId, m.layer, m.offset + m.size);
        const blob = (await storage.layerContentBlob(m.imageId, m.layer)).slice(m.offset, m.offset + m.size);
        post({ type: 'result', id: m.id, value: blob });
        break;
      }
      case 'exportTar': post({ type: 'result', id: m.id, value: await exportTar(m.imageId, m.layer, m.path, m.gzip) }); break;
      case 'delete': {
        await stopBackground(m.imageId);
        await storage.deleteImage(m.imageId);
        if (cached?.id === m.imageId) cached = null;
        post({ type: 'result', id: m.id, value: undefined });
        break;
      }
      case 'estimate': post({ type: 'result', id: m.id, value: await storage.storageEstimate() }); break;
    }
  } catch (e) {
    post({ type: 'error', id: m.id, error: toErrorInfo(e) });
  } finally {
    aborts.delete(m.id);
  }
};
