// The merge worker as the coordinator sees it: started on first use and shared by imports (each
// has its own merge id). Replies come back in request order per merge, so each merge keeps a
// queue of callers.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import type { MergeReply, MergeRequest } from '../protocol.ts';

let merger: Worker | null = null;
const mergeCallers = new Map<number, ((m: MergeReply) => void)[]>();
let lastMerge = 0;

export const newMergeId = (): number => ++lastMerge;

function startMerger(): Worker {
  const w = new Worker(new URL('../merge.worker.ts', import.meta.url), { type: 'module', name: 'strata-merge' });
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

export async function mergeCall<T extends MergeReply['type']>(req: MergeRequest, transfer: Transferable[] = []): Promise<MergeReply & { type: T }> {
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
