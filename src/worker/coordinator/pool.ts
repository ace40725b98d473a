// The decode pool as the coordinator sees it: pool workers reached over MessagePorts, jobs run on
// the first free one. Imports and exports go first; background work (expanding stored layers,
// digest checks) waits behind them, so an import never queues behind another image's expansion —
// and while one runs, the expansions under way hold and lend it their workers (`inImport`). One
// worker beyond the cores, the spare, takes only an import's decodes, and only when the import's
// layers are of like sizes (core/layers/schedule.ts): then three layers share two cores instead of
// the last one running alone.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import type { Job, JobReply } from '../protocol.ts';

interface PoolWorker {
  port: MessagePort;
  busy: boolean;
  /** its job is a background expansion: held while an import or a streamed export runs */
  expanding: boolean;
  /** a job borrowed it meanwhile (at most one: its held expansion costs nothing) */
  lent: boolean;
  /** one worker beyond the cores: only an import's decodes run on it (`runJob`'s `spare`) */
  spare: boolean;
}
const pool: PoolWorker[] = [];
/** a job waiting for a worker: woken when one it may take is free (`available`) */
interface Waiter { wake: () => void; kind: Kind; spare: boolean }
const waiting = { now: [] as Waiter[], later: [] as Waiter[] };
/** Wakes the longest waiter (foreground first) that may take a worker now. */
function wakeNext(): void {
  for (const list of [waiting.now, waiting.later]) {
    const i = list.findIndex((x) => available(x.kind, x.spare));
    if (i >= 0) { list.splice(i, 1)[0].wake(); return; }
  }
}
const handlers = new Map<number, (m: JobReply) => void>();
let lastJob = 0;

/** a fresh job id (ids are unique across the coordinator's jobs) */
export const newJobId = (): number => ++lastJob;

export function addPort(port: MessagePort, spare = false): void {
  const w: PoolWorker = { port, busy: false, expanding: false, lent: false, spare };
  port.onmessage = (ev: MessageEvent<JobReply>) => handlers.get(ev.data.job)?.(ev.data);
  if (holding.active) port.postMessage({ type: 'hold', job: 0 } satisfies Job);
  pool.push(w);
  wakeNext();
}

/** how many pool workers (not counting the spare) are idle now */
export const freeWorkers = (): number => pool.filter((w) => !w.spare && !w.busy && !w.lent).length;
/** the pool's workers for all jobs: one per core */
export const poolCores = (): number => pool.filter((w) => !w.spare).length;
/** whether the pool has a spare worker (for an import's decodes) */
export const hasSpare = (): boolean => pool.some((w) => w.spare);

type Kind = Job['type'];
const isBackground = (kind: Kind) => kind === 'expand' || kind === 'verify';

/**
 * The worker a job of `kind` may take now: a free one (the spare too if `spare`), or — for work
 * the user waits for, while the expansions hold — one whose job is a held expansion (`lent`: it
 * shares that worker).
 */
function available(kind: Kind, spare: boolean): { w: PoolWorker; lent: boolean } | undefined {
  const free = pool.find((w) => !w.spare && !w.busy && !w.lent) ?? (spare ? pool.find((w) => w.spare && !w.busy) : undefined);
  if (free) return { w: free, lent: false };
  const held = !isBackground(kind) && holding.active ? pool.find((w) => !w.spare && w.expanding && !w.lent) : undefined;
  return held && { w: held, lent: true };
}

/** Takes a worker for a job of `kind` (`available`), waiting for one if need be. */
async function acquire(signal: AbortSignal | undefined, kind: Kind, spare: boolean): Promise<{ w: PoolWorker; lent: boolean }> {
  for (let woken = false; ; woken = true) {
    if (signal?.aborted) {
      if (woken) wakeNext(); // the worker we were woken for is free: pass it on
      throw new StrataError('ABORTED', 'The import was cancelled.');
    }
    const got = available(kind, spare);
    if (got?.lent) got.w.lent = true;
    else if (got) { got.w.busy = true; got.w.expanding = kind === 'expand'; }
    if (got) return got;
    await new Promise<void>((wake) => (isBackground(kind) ? waiting.later : waiting.now).push({ wake, kind, spare }));
  }
}

function release(w: PoolWorker, lent: boolean): void {
  if (lent) w.lent = false;
  else { w.busy = false; w.expanding = false; }
  wakeNext();
}

/** What a decode job streams back: a piece of a layer's content, and how to hand its buffer back. */
export type OnContent = (chunk: Uint8Array<ArrayBuffer>, ack: () => void) => void;

/**
 * Runs one job on a pool worker; resolves with its final reply. Expansions and digest checks are
 * background work. An import's decode may take the spare worker (`spare`).
 */
export async function runJob(job: Job & { type: 'decode' | 'expand' | 'verify' | 'tarWindow' | 'hash' | 'deflate' }, signal: AbortSignal | undefined, onProgress?: (a: number, b: number) => void, onContent?: OnContent, spare = false): Promise<JobReply> {
  const { w, lent } = await acquire(signal, job.type, spare && job.type === 'decode');
  try {
    return await exchange(w, job, signal, onProgress, onContent);
  } finally {
    release(w, lent);
  }
}

/** streams running per worker (runShared) */
const shared = new Map<PoolWorker, number>();

/**
 * Runs a streaming job on the worker with the fewest such jobs, without taking it from the pool:
 * it shares the worker with whatever runs there (a worker runs jobs concurrently; an expansion
 * paused by `expansionsReleased` costs nothing). Several streams read in an interleaved order must not
 * wait for each other's workers, or they would deadlock.
 */
export async function runShared(job: Job & { type: 'expand' }, signal: AbortSignal | undefined, onContent: OnContent): Promise<JobReply> {
  // no worker yet (the page has not wired them): woken as the first one is added, free
  while (!poolCores()) await new Promise<void>((wake) => waiting.now.push({ wake, kind: 'expand', spare: false }));
  const w = pool.filter((x) => !x.spare).reduce((a, b) => ((shared.get(b) ?? 0) < (shared.get(a) ?? 0) ? b : a));
  shared.set(w, (shared.get(w) ?? 0) + 1);
  try {
    return await exchange(w, job, signal, undefined, onContent);
  } finally {
    shared.set(w, shared.get(w)! - 1);
  }
}

function exchange(w: PoolWorker, job: Job & { job: number }, signal: AbortSignal | undefined, onProgress?: (a: number, b: number) => void, onContent?: OnContent): Promise<JobReply> {
  const id = job.job;
  return new Promise<JobReply>((resolve, reject) => {
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
}

/** Work under way that other work waits for: `during(fn)` counts it, `idle()` waits until none. */
class Gate {
  private count = 0;
  private waiters: (() => void)[] = [];
  private readonly listeners = new Set<(busy: boolean) => void>();

  get active(): boolean { return this.count > 0; }

  async during<T>(fn: () => Promise<T>): Promise<T> {
    if (this.count++ === 0) this.tell(true);
    try {
      return await fn();
    } finally {
      if (--this.count === 0) {
        this.tell(false);
        const w = this.waiters; this.waiters = []; for (const r of w) r();
      }
    }
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  /** `fn` hears each change between none under way (false) and some (true); returns the unsubscribe */
  onChange(fn: (busy: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private tell(busy: boolean): void {
    for (const l of [...this.listeners]) l(busy);
  }
}

// Streamed exports, imports and direct reads under way (export-stream.ts, import.ts,
// direct-read.ts): expansions hold back their buffers meanwhile, and the workers hold them at their
// next input slice (not only once their buffers run out: that left them inflating and hashing for
// up to 0.8 s into the export), so the cores work for what the user waits for instead of for
// IndexedDB. An export's or a read's own inflate shares a worker anyway (runShared); an import's
// decode borrows a held one (acquire) — should the hold end first, the two share that worker.
const holding = new Gate();
holding.onChange((busy) => {
  for (const w of pool) w.port.postMessage({ type: busy ? 'hold' : 'release', job: 0 } satisfies Job);
  // jobs waiting for a worker may borrow a held one now
  if (busy) for (const w of waiting.now.splice(0)) w.wake();
});
/** Runs `fn` with the background expansions held (a streamed export, a direct read, an import). */
export const holdingExpansions = <T>(fn: () => Promise<T>): Promise<T> => holding.during(fn);
/** Resolves when nothing holds the expansions (no streamed export, import or direct read). */
export const expansionsReleased = (): Promise<void> => holding.idle();

// Exports and written images (work the user waits for) under way: background work that would
// compete with them for the cores waits until there are none — digest checks (seconds of SHA-256
// each) stop and start again after, the analysis holds at its next pause (analysis.ts).
const foreground = new Gate();
/** Runs `fn` as foreground work: background work started meanwhile waits for it. */
export const inForeground = <T>(fn: () => Promise<T>): Promise<T> => foreground.during(fn);
/** Runs `fn` as foreground work that holds the expansions too. */
const heldForeground = <T>(fn: () => Promise<T>): Promise<T> => foreground.during(() => holding.during(fn));
/**
 * Runs an import (or the inspection before it) as held foreground work. A second image dropped the
 * moment the first is browsable was 2.8× slower than alone (text-go, 2.7 vs 1.0 s) while the first
 * one's layers were expanded, checked and analysed on the same cores.
 */
export const inImport = heldForeground;
/** Resolves when no foreground work is under way. */
export const foregroundIdle = (): Promise<void> => foreground.idle();
/**
 * Keeps background work waiting `ms` longer, as if foreground work and a hold of the expansions
 * were still under way: called from inside both, so neither gate opens in between. A streamed
 * download's last chunk is not the end of it — the browser still writes what it has buffered and
 * syncs the file (export.ts).
 */
export function linger(ms: number): void {
  void heldForeground(() => new Promise<void>((r) => setTimeout(r, ms)));
}
/** whether foreground work is under way now */
export const inForegroundNow = (): boolean => foreground.active;
/** `fn` hears each change between no foreground work (false) and some (true); returns the unsubscribe */
export const onForegroundChange = (fn: (busy: boolean) => void): (() => void) => foreground.onChange(fn);
/** A signal that aborts when foreground work begins (background work that holds the cores yields). */
export function yieldToForeground(): { signal: AbortSignal; done: () => void } {
  const ctl = new AbortController();
  return { signal: ctl.signal, done: foreground.onChange((busy) => { if (busy) ctl.abort(); }) };
}
