// The compare worker: the core comparison of two stored images (or two layers of one) off the
// coordinator's thread. The summary goes out first; then the files of equal size from different
// sources are hashed from the layers' stored content, which the coordinator hands over as Blobs
// once stored far enough. Glue only.
/// <reference lib="webworker" />
import { Comparer, packComparison } from '../core/compare/index.ts';
import type { CompareContent } from '../core/compare/content.ts';
import { jsSha256 } from '../core/env.ts';
import { StrataError, toErrorInfo } from '../core/errors.ts';
import { FileTree } from '../core/tree/file-tree.ts';
import type { CompareReply, CompareRequest } from './protocol.ts';

const post = (m: CompareReply) => (self as unknown as Worker).postMessage(m);
/** progress goes out at most this often (the last file always) */
const PROGRESS_MS = 100;

interface Job { ctl: AbortController; pending: Map<number, { resolve: (b: Blob) => void; reject: (e: Error) => void }> }
const jobs = new Map<number, Job>();
let lastReq = 0;

self.onmessage = (ev: MessageEvent<CompareRequest>) => {
  const m = ev.data;
  if (m.type === 'cancel') { jobs.get(m.job)?.ctl.abort(); return; }
  if (m.type === 'blob') {
    const p = jobs.get(m.job)?.pending.get(m.req);
    if (!p) return;
    jobs.get(m.job)!.pending.delete(m.req);
    if (m.blob) p.resolve(m.blob);
    else p.reject(new StrataError(m.error?.code === 'INTERNAL' || !m.error ? 'IO' : m.error.code, m.error?.message ?? 'No content came back.'));
    return;
  }
  void run(m);
};

async function run(m: CompareRequest & { type: 'compare' }): Promise<void> {
  const job: Job = { ctl: new AbortController(), pending: new Map() };
  jobs.set(m.job, job);
  try {
    const ta = new FileTree(m.a.tree!);
    const tb = m.b.tree ? new FileTree(m.b.tree) : ta;
    const c = new Comparer({ id: m.a.id, meta: m.a.meta, layer: m.a.layer, tree: ta }, { id: m.b.id, meta: m.b.meta, layer: m.b.layer, tree: tb });
    const summary = c.summary(m.packages);
    const packed = packComparison(summary);
    post({ type: 'summary', job: m.job, comparison: packed });
    if (summary.complete) { post({ type: 'done', job: m.job, comparison: packed }); return; }
    let last = 0;
    const done = await c.settle(summary, reader(m.job, job, neededEnds(summary.files)), {
      signal: job.ctl.signal,
      onProgress: (work) => {
        const now = performance.now();
        if (work.done === work.files || now - last >= PROGRESS_MS) { last = now; post({ type: 'hashing', job: m.job, work }); }
      },
    });
    post({ type: 'done', job: m.job, comparison: packComparison(done) });
  } catch (e) {
    post({ type: 'error', job: m.job, error: toErrorInfo(e) });
  } finally {
    jobs.delete(m.job);
  }
}

/** How far into each side's layer the pending files reach: one Blob per layer is asked for. */
function neededEnds(files: ReturnType<Comparer['summary']>['files']): Map<string, number> {
  const ends = new Map<string, number>();
  for (const f of files) {
    if (!f.pending) continue;
    for (const [side, st] of [['a', f.a!], ['b', f.b!]] as const) {
      const key = `${side}:${st.content!.layer}`;
      ends.set(key, Math.max(ends.get(key) ?? 0, st.content!.offset + st.size));
    }
  }
  return ends;
}

function reader(jobId: number, job: Job, ends: Map<string, number>): CompareContent {
  const blobs = new Map<string, Promise<Blob>>();
  const blobOf = (side: 'a' | 'b', layer: number): Promise<Blob> => {
    const key = `${side}:${layer}`;
    let b = blobs.get(key);
    if (!b) {
      const req = ++lastReq;
      b = new Promise<Blob>((resolve, reject) => {
        job.pending.set(req, { resolve, reject });
        post({ type: 'blob', job: jobId, req, side, layer, end: ends.get(key) ?? 0 });
      });
      blobs.set(key, b);
    }
    return b;
  };
  return {
    async read(side, layer, offset, length) {
      const blob = await blobOf(side, layer);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
    sha256: jsSha256,
  };
}
