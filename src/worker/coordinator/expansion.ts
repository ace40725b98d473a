// Expansion: after the commit, each layer stored packed (compressed, as the archive shipped it) is
// decompressed on the pool and stored as its content. Reads wait only until the bytes they need
// are stored; a reload or a closed tab resumes what was left (a Web Lock per layer).
/// <reference lib="webworker" />
import { StrataError, toErrorInfo } from '../../core/errors.ts';
import * as storage from '../../storage/index.ts';
import type { JobReply } from '../protocol.ts';
import { post } from './context.ts';
import { expansionsReleased, newJobId, runJob } from './pool.ts';

/**
 * `${imageId}:${layer}` -> that layer's expansion in this worker: `done` settles when its content is
 * stored (settled entries stay: known expanded); while `running`, `upTo` bytes of the stream are
 * stored (committed: `onStored`) and `waiters` are reads waiting for more.
 * An export of a just-imported image inflates the packed layers itself (export-stream.ts) while
 * the expansions pause. Composing it from the expansion's pieces instead ("hurrying" it, keeping
 * every piece as a Blob until the export was built) was measured slower: every piece went through
 * Chromium's blob storage and was read back for the export's windows, before being written to
 * IndexedDB anyway (libs-go, 1.6 GB: 15.1 s from the click vs 13.4 s waiting for the writes).
 */
interface ExpansionState { done: Promise<void>; running: boolean; upTo: number; waiters: Set<() => void> }
const expansions = new Map<string, ExpansionState>();
const expandedAlready = (): ExpansionState => ({ done: Promise.resolve(), running: false, upTo: 0, waiters: new Set() });
/** per image: stops its background work (expansions, digest checks, analysis) on delete */
const backgroundStops = new Map<string, AbortController>();

export function stopOf(imageId: string): AbortSignal {
  let stop = backgroundStops.get(imageId);
  if (!stop) backgroundStops.set(imageId, (stop = new AbortController()));
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
      const m = await runJob({ type: 'expand', job: newJobId(), info: x.info, blob: x.packed }, stop.signal, undefined, (chunk, ack) => {
        // the piece as a Blob at once (the worker's buffer goes back once it is queued for a
        // write: at most two batches wait for IndexedDB); stored in order
        const piece = new Blob([chunk]);
        // while an export, an import or a direct read holds the expansions, the buffer is held
        // back: the worker pauses this layer and the cores work for what the user waits for
        queue = queue.then(() => x.add(piece)).then(expansionsReleased).then(ack);
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
export function expandAll(rec: storage.StoredImage): Promise<unknown> {
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

/** Before reading whole layers: each must be expanded (waits for it, or starts it). */
export async function expanded(imageId: string, layers: Iterable<number>): Promise<void> {
  await Promise.all(await startExpansions(imageId, layers));
}

/** Of `layers`, those whose content is not stored yet (packed, or being expanded) — per the record. */
export async function notStoredYet(imageId: string, layers: Iterable<number>): Promise<Set<number>> {
  const rec = await storage.readRecord(imageId);
  const out = new Set<number>();
  for (const l of layers) {
    const x = expansions.get(`${imageId}:${l}`);
    if (x ? x.running : rec?.packed?.includes(l)) out.add(l);
  }
  return out;
}

/** A layer's whole decompressed stream as a Blob for an export: its stored content, once stored. */
export async function layerStream(imageId: string, layer: number): Promise<Blob> {
  const [whole] = await startExpansions(imageId, [layer]);
  await whole;
  return storage.layerContentBlob(imageId, layer);
}

/**
 * How far the expansion of `layer` (started now if it was not) has stored its stream; null when
 * the layer is stored whole (or not packed).
 */
export async function expansionAt(imageId: string, layer: number): Promise<number | null> {
  await startExpansions(imageId, [layer]);
  const x = expansions.get(`${imageId}:${layer}`);
  return x?.running ? x.upTo : null;
}

/**
 * Before reading bytes [0, end) of `layer` (a file's content): waits until its expansion has
 * stored that far — a file near the start of a big layer is readable long before the layer is done.
 */
export async function readable(imageId: string, layer: number, end: number): Promise<void> {
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
 * Stops this worker's background work on `imageId` (expansions, digest checks, analysis) and
 * waits until the expansions have settled (before a delete; a stopped digest check writes nothing).
 */
export async function stopBackground(imageId: string): Promise<void> {
  backgroundStops.get(imageId)?.abort();
  backgroundStops.delete(imageId);
  const mine = [...expansions].filter(([k]) => k.startsWith(`${imageId}:`));
  await Promise.allSettled(mine.map(([, x]) => x.done));
  for (const [k] of mine) expansions.delete(k);
}
