// The merge, off the coordinator's thread: each import's layers are applied strictly in order as
// their entries arrive, and the encoded tree goes back at the end. A layer of 100k entries takes
// a few hundred ms to apply; here that blocks nobody (the coordinator keeps reporting progress
// and storing content meanwhile). Glue only.
/// <reference lib="webworker" />
import { toErrorInfo } from '../core/errors.ts';
import { LayerMerger } from '../core/layers/merge.ts';
import type { EncodedTree } from '../core/model.ts';
import { unpackEntries } from '../core/layers/entry-columns.ts';
import type { MergeReply, MergeRequest } from './protocol.ts';

const merges = new Map<number, LayerMerger>();
const post = (m: MergeReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/** the tree's column buffers, each once (a column may share its buffer with another) */
function buffersOf(tree: EncodedTree): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of Object.values(tree)) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  return [...out];
}

self.onmessage = (ev: MessageEvent<MergeRequest>) => {
  const m = ev.data;
  try {
    if (m.type === 'begin') {
      merges.set(m.merge, new LayerMerger(m.layers));
      post({ type: 'done', merge: m.merge });
    } else if (m.type === 'layer') {
      const counts = merges.get(m.merge)!.apply(m.index, unpackEntries(m.entries), m.what);
      post({ type: 'counts', merge: m.merge, counts });
    } else if (m.type === 'encode') {
      const tree = merges.get(m.merge)!.encode();
      merges.delete(m.merge);
      post({ type: 'tree', merge: m.merge, tree }, buffersOf(tree));
    } else {
      merges.delete(m.merge);
      post({ type: 'done', merge: m.merge });
    }
  } catch (e) {
    merges.delete(m.merge);
    post({ type: 'error', merge: m.merge, error: toErrorInfo(e) });
  }
};
