// Comparisons of stored images: the trees and metas are read here and compared on the compare
// worker (summary first, then hashes); content is handed over as each layer's stored Blob once its
// expansion has stored the bytes needed. Packages come from each image's analysis — if one is
// still running, the result waits for it (the summary does not).
/// <reference lib="webworker" />
import type { CompareSide } from '../../app/engine-api.ts';
import { withPackages, type PackedComparison, type SidePackages } from '../../core/compare/index.ts';
import { StrataError, toErrorInfo } from '../../core/errors.ts';
import type { EncodedTree, ImageMeta } from '../../core/model.ts';
import * as storage from '../../storage/index.ts';
import type { CompareReply, CompareRequest, CompareSideData, CompareWireProgress } from '../protocol.ts';
import { analysisState, startAnalysis } from './analysis.ts';
import { readable } from './expansion.ts';
import { WorkerJobs } from './worker-jobs.ts';

const workers = new WorkerJobs<CompareReply>(
  () => new Worker(new URL('../compare.worker.ts', import.meta.url), { type: 'module', name: 'strata-compare' }),
  'compare', (job, error) => ({ type: 'error', job, error }));

interface Packages { now: SidePackages; later?: Promise<SidePackages> }

export async function compare(a: CompareSide, b: CompareSide, signal: AbortSignal, progress: (p: CompareWireProgress) => void): Promise<PackedComparison> {
  const same = a.imageId === b.imageId;
  const [ia, ib] = await Promise.all([storage.openImage(a.imageId), same ? null : storage.openImage(b.imageId)]);
  const da = sideData(a, ia.meta, ia.tree, true);
  const db = sideData(b, (ib ?? ia).meta, (ib ?? ia).tree, !same);
  const pa = await packagesOf(a.imageId);
  const pb = same ? pa : await packagesOf(b.imageId);
  let cmp = await runOnWorker(da, db, { a: pa.now, b: pb.now }, signal, progress);
  if (pa.later || pb.later) {
    const [xa, xb] = await abortable(Promise.all([pa.later ?? pa.now, pb.later ?? pb.now]), signal);
    cmp = withPackages(cmp, { a: xa, b: xb });
  }
  return cmp;
}

function sideData(s: CompareSide, rec: storage.StoredImage, tree: EncodedTree, withTree: boolean): CompareSideData {
  const { id: _i, importedAt: _t, totalBytes: _b, status: _s, packed: _p, ...meta } = rec;
  const n = meta.layers.length;
  const layer = s.layer ?? n - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= n) {
    throw new StrataError('BAD_OPTION', `Layer ${layer + 1} of ${meta.image.name} cannot be compared: the image has ${n} layer${n === 1 ? '' : 's'}.`);
  }
  return { id: s.imageId, meta: meta as ImageMeta, layer, ...(withTree ? { tree } : {}) };
}

/** The packages the analysis listed; if it is still running, a promise of them too. */
async function packagesOf(imageId: string): Promise<Packages> {
  const known = (st: Awaited<ReturnType<typeof analysisState>>): SidePackages | null => {
    if (st.result?.phases.packages) return { records: st.result.packages };
    if (st.status === 'failed') return { missing: `its analysis failed (${st.error?.message ?? 'no reason given'})` };
    if (st.status === 'done') return { missing: 'its analysis did not list them' };
    return null;
  };
  const now = known(await analysisState(imageId));
  if (now) return { now };
  const later = startAnalysis(imageId).then(async () => known(await analysisState(imageId)) ?? { missing: 'its analysis stopped before listing them' });
  return { now: { missing: 'its analysis is still listing them' }, later };
}

function runOnWorker(a: CompareSideData, b: CompareSideData, packages: { a: SidePackages; b: SidePackages }, signal: AbortSignal, progress: (p: CompareWireProgress) => void): Promise<PackedComparison> {
  const w = workers.get();
  const job = workers.newJob();
  const imageOf = (side: 'a' | 'b') => (side === 'a' ? a.id : b.id);
  return new Promise<PackedComparison>((resolve, reject) => {
    const finish = (e: unknown, c?: PackedComparison) => {
      workers.off(job);
      signal.removeEventListener('abort', onAbort);
      if (c) resolve(c); else reject(e);
    };
    const onAbort = () => { w.postMessage({ type: 'cancel', job } satisfies CompareRequest); finish(new StrataError('ABORTED', 'The comparison was cancelled.')); };
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    workers.on(job, (m) => {
      switch (m.type) {
        case 'summary': progress({ summary: m.comparison }); break;
        case 'hashing': progress({ hashing: m.work }); break;
        case 'blob': {
          const id = imageOf(m.side);
          void readable(id, m.layer, m.end).then(() => storage.layerContentBlob(id, m.layer)).then(
            (blob) => w.postMessage({ type: 'blob', job, req: m.req, blob } satisfies CompareRequest),
            (e: unknown) => w.postMessage({ type: 'blob', job, req: m.req, error: toErrorInfo(e) } satisfies CompareRequest));
          break;
        }
        case 'done': finish(null, m.comparison); break;
        case 'error': finish(new StrataError(m.error.code === 'INTERNAL' ? 'IO' : m.error.code, m.error.message)); break;
      }
    });
    w.postMessage({ type: 'compare', job, a, b, packages } satisfies CompareRequest);
  });
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new StrataError('ABORTED', 'The comparison was cancelled.'));
    if (signal.aborted) { stop(); return; }
    signal.addEventListener('abort', stop, { once: true });
    p.then((v) => { signal.removeEventListener('abort', stop); resolve(v); }, reject);
  });
}
