// The analysis of stored images, off the critical path: started after an import commits (and at
// start-up for images whose analysis is missing or unfinished), computed on the analysis worker,
// stored and posted to the page after each phase. The worker asks this thread for file contents:
// reads wait only until a layer's expansion has stored the bytes they need.
/// <reference lib="webworker" />
import { writeSbom } from '../../core/analysis/sbom/index.ts';
import type { AnalysisResult, AnalysisState, SbomFormat, SbomScope } from '../../core/analysis/types.ts';
import { StrataError, toErrorInfo } from '../../core/errors.ts';
import type { EncodedTree } from '../../core/model.ts';
import { STRATA_VERSION } from '../../core/version.ts';
import * as storage from '../../storage/index.ts';
import type { AnalysisReply, AnalysisRequest } from '../protocol.ts';
import { post } from './context.ts';
import { readable, stopOf } from './expansion.ts';
import { foregroundIdle, inForegroundNow, onForegroundChange } from './pool.ts';
import { treeOf } from './export.ts';
import { WorkerJobs } from './worker-jobs.ts';

/** Progress goes to the page at most this often (phases and the end always). */
const PROGRESS_MS = 100;

interface Running { state: AnalysisState; done: Promise<void> }
const running = new Map<string, Running>();

const workers = new WorkerJobs<AnalysisReply>(
  () => new Worker(new URL('../analysis.worker.ts', import.meta.url), { type: 'module', name: 'strata-analysis' }),
  'analysis', (job, error) => ({ type: 'error', job, error }));

// Work the user waits for (an export, a written image) holds the analysis at its next pause
// (between phases, between package files; its reads of stored content wait here too): right after
// an import both would run at once, on two cores that work needs.
onForegroundChange((busy) => workers.running?.postMessage((busy ? { type: 'hold', job: 0 } : { type: 'release', job: 0 }) satisfies AnalysisRequest));

const emit = (imageId: string, state: AnalysisState) => post({ type: 'analysis', imageId, state: structuredClone(state) });

/** Starts the analysis of a ready image unless it is stored complete or under way; never rejects. */
export function startAnalysis(imageId: string): Promise<void> {
  const known = running.get(imageId);
  if (known) return known.done;
  const r: Running = { state: { status: 'running', progress: { phase: 'starting', done: 0, total: 1 }, result: null }, done: Promise.resolve() };
  running.set(imageId, r);
  r.done = analyse(imageId, r).catch((e: unknown) => {
    const error = toErrorInfo(e);
    if (error.code === 'ABORTED') { running.delete(imageId); return; } // deleted meanwhile
    r.state = { status: 'failed', progress: null, result: r.state.result, error };
    emit(imageId, r.state);
    void storage.putAnalysis(imageId, { format: storage.ANALYSIS_FORMAT, status: 'failed', result: r.state.result, error, at: Date.now() }).catch(() => {});
  });
  return r.done;
}

async function analyse(imageId: string, r: Running): Promise<void> {
  const stop = stopOf(imageId);
  const release = await storage.holdAnalysisLock(imageId);
  try {
    const stored = await storage.readAnalysis(imageId);
    if (stored?.status === 'done' && stored.result) {
      r.state = { status: 'done', progress: null, result: stored.result };
      emit(imageId, r.state);
      return;
    }
    // a partial result (a closed tab, a failure) is shown while the analysis runs again
    r.state.result = stored?.result ?? null;
    // right after an import the coordinator still has its tree (treeOf; posted below as a copy)
    const [tree, captured] = await Promise.all([treeOf(imageId), storage.readCaptured(imageId)]);
    // an export the user waits for goes first (right after an import it competes for the cores)
    await foregroundIdle();
    if (stop.aborted) throw new StrataError('ABORTED', 'The image was deleted.');
    await runOnWorker(imageId, tree, captured, stop, r);
    r.state = { status: 'done', progress: null, result: r.state.result };
    emit(imageId, r.state);
  } finally {
    release();
  }
}

function runOnWorker(imageId: string, tree: EncodedTree, captured: Map<string, Uint8Array>, stop: AbortSignal, r: Running): Promise<void> {
  const w = workers.get();
  if (inForegroundNow()) w.postMessage({ type: 'hold', job: 0 } satisfies AnalysisRequest);
  const job = workers.newJob();
  let lastSent = 0;
  let stores: Promise<unknown> = Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const finish = (e?: unknown) => {
      workers.off(job);
      stop.removeEventListener('abort', onAbort);
      // the last phase's result is stored before the analysis counts as done
      void stores.then(() => (e ? reject(e) : resolve()), reject);
    };
    const onAbort = () => { w.postMessage({ type: 'cancel', job } satisfies AnalysisRequest); finish(new StrataError('ABORTED', 'The image was deleted.')); };
    stop.addEventListener('abort', onAbort, { once: true });
    workers.on(job, (m) => {
      switch (m.type) {
        case 'read':
          void readBytes(imageId, m.layer, m.offset, m.length).then(
            (bytes) => w.postMessage({ type: 'bytes', job, req: m.req, bytes } satisfies AnalysisRequest, [bytes.buffer]),
            (e: unknown) => w.postMessage({ type: 'bytes', job, req: m.req, error: toErrorInfo(e) } satisfies AnalysisRequest));
          break;
        case 'progress': {
          r.state.progress = { phase: m.phase, done: m.done, total: m.total };
          const now = performance.now();
          if (now - lastSent >= PROGRESS_MS) { lastSent = now; emit(imageId, r.state); }
          break;
        }
        case 'phase':
          r.state.result = m.result;
          stores = stores.then(() => store(imageId, m.result));
          emit(imageId, r.state);
          break;
        case 'done': finish(); break;
        case 'error': finish(new StrataError(m.error.code === 'INTERNAL' ? 'IO' : m.error.code, m.error.message)); break;
      }
    });
    w.postMessage({ type: 'analyze', job, tree, captured } satisfies AnalysisRequest);
  });
}

async function readBytes(imageId: string, layer: number, offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
  await readable(imageId, layer, offset + length);
  await foregroundIdle(); // the content scan pauses while an export runs
  const b = await storage.readRange(imageId, layer, offset, length);
  return b as Uint8Array<ArrayBuffer>;
}

async function store(imageId: string, result: AnalysisResult): Promise<void> {
  const status = result.phases.content ? 'done' : 'running';
  await storage.putAnalysis(imageId, { format: storage.ANALYSIS_FORMAT, status, result, at: Date.now() });
}

/** What the page sees: the running analysis here, else what is stored (starting it if needed). */
export async function analysisState(imageId: string): Promise<AnalysisState> {
  const r = running.get(imageId);
  if (r) return structuredClone(r.state);
  const stored = await storage.readAnalysis(imageId);
  if (stored?.status === 'done' && stored.result) return { status: 'done', progress: null, result: stored.result };
  const rec = await storage.readRecord(imageId);
  if (rec?.status !== 'ready') throw new StrataError('NOT_FOUND', `No stored image ${imageId}: it was deleted, or its import did not finish.`);
  void startAnalysis(imageId);
  return structuredClone(running.get(imageId)!.state);
}

/** An SBOM from the image's analysis; waits for the analysis when it is still running. */
export async function sbom(imageId: string, format: SbomFormat, scope: SbomScope): Promise<Blob> {
  let state = await analysisState(imageId);
  if (state.status === 'running') {
    await running.get(imageId)?.done;
    state = await analysisState(imageId);
  }
  const result = state.result;
  if (!result?.phases.packages) {
    throw new StrataError('NOT_FOUND', `The packages of this image could not be listed${state.error ? `: ${state.error.message}` : ''}; no SBOM can be written.`);
  }
  const meta = await storage.readRecord(imageId);
  if (!meta) throw new StrataError('NOT_FOUND', `No stored image ${imageId}: it was deleted.`);
  const file = writeSbom(format, { meta, packages: result.packages, scope, distro: result.distro, created: new Date(), toolVersion: STRATA_VERSION });
  return new File([file.text], file.fileName, { type: file.mediaType });
}

/** Forget the analysis of a deleted image (its worker job was stopped by the image's stop signal). */
export function forgetAnalysis(imageId: string): void {
  running.delete(imageId);
}
