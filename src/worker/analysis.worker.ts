// The analysis worker: runs the core analysis of one stored image at a time, off the coordinator's
// thread (a content scan keeps a core busy for seconds). File contents come from what the decoders
// kept during the import, else from the coordinator, which reads them from storage once stored;
// a small block cache serves the many small reads of executables' headers. Glue only.
/// <reference lib="webworker" />
import { analyzeImage, type ContentSource } from '../core/analysis/analyze.ts';
import { StrataError, toErrorInfo } from '../core/errors.ts';
import type { AnalysisReply, AnalysisRequest } from './protocol.ts';
import { breathe, setHeld, unheld } from './hold.ts';

const post = (m: AnalysisReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
const jobs = new Map<number, { ctl: AbortController; pending: Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }> }>();
let lastReq = 0;

/**
 * AnalyzeOptions.pause: lets messages in (a `hold` sent while the analysis computed), then waits
 * while work the user waits for (an export, a written image) holds it, or until cancelled.
 */
async function pause(signal: AbortSignal): Promise<void> {
  await breathe();
  await unheld(signal);
}

/** reads up to this size go through 256 KiB blocks kept for reuse */
const BLOCK = 256 << 10;
const CACHED_BLOCKS = 64;

function source(job: number, captured: Map<string, Uint8Array>, signal: AbortSignal): ContentSource {
  const blocks = new Map<string, Promise<Uint8Array>>();
  const fetch = (layer: number, offset: number, length: number): Promise<Uint8Array> => {
    if (signal.aborted) return Promise.reject(new StrataError('ABORTED', 'The analysis was cancelled.'));
    const req = ++lastReq;
    return new Promise((resolve, reject) => {
      jobs.get(job)?.pending.set(req, { resolve, reject });
      post({ type: 'read', job, req, layer, offset, length });
    });
  };
  const block = (layer: number, index: number): Promise<Uint8Array> => {
    const key = `${layer}:${index}`;
    let b = blocks.get(key);
    if (b) { blocks.delete(key); blocks.set(key, b); return b; } // most recently used last
    b = fetch(layer, index * BLOCK, BLOCK);
    b.catch(() => blocks.delete(key)); // e.g. the last block of a layer, which is short
    blocks.set(key, b);
    if (blocks.size > CACHED_BLOCKS) blocks.delete(blocks.keys().next().value!);
    return b;
  };
  return {
    async read(layer, offset, length) {
      const kept = captured.get(`${layer}:${offset}`);
      if (kept && kept.length >= length) return kept.subarray(0, length);
      if (length > BLOCK / 4) return fetch(layer, offset, length);
      // small reads (ELF headers): whole blocks, unless the read runs to a layer's end
      const first = Math.floor(offset / BLOCK), last = Math.floor((offset + length - 1) / BLOCK);
      if (first !== last) return fetch(layer, offset, length);
      try {
        const b = await block(layer, first);
        const at = offset - first * BLOCK;
        if (b.length >= at + length) return b.subarray(at, at + length);
      } catch {
        // a block past the end of the layer's stored content: read just the bytes asked for
      }
      return fetch(layer, offset, length);
    },
  };
}

self.onmessage = async (ev: MessageEvent<AnalysisRequest>) => {
  const m = ev.data;
  if (m.type === 'cancel') { jobs.get(m.job)?.ctl.abort(); return; }
  if (m.type === 'hold' || m.type === 'release') { setHeld(m.type === 'hold'); return; }
  if (m.type === 'bytes') {
    const p = jobs.get(m.job)?.pending.get(m.req);
    jobs.get(m.job)?.pending.delete(m.req);
    if (m.bytes) p?.resolve(m.bytes);
    else p?.reject(new StrataError(m.error?.code === 'INTERNAL' ? 'IO' : m.error?.code ?? 'IO', m.error?.message ?? 'Reading failed.'));
    return;
  }
  const ctl = new AbortController();
  jobs.set(m.job, { ctl, pending: new Map() });
  try {
    await analyzeImage(m.tree, source(m.job, m.captured, ctl.signal), {
      signal: ctl.signal,
      pause: () => pause(ctl.signal),
      onProgress: (phase, done, total) => post({ type: 'progress', job: m.job, phase, done, total }),
      onPhase: (result) => post({ type: 'phase', job: m.job, result }),
    });
    post({ type: 'done', job: m.job });
  } catch (e) {
    post({ type: 'error', job: m.job, error: toErrorInfo(e) });
  } finally {
    jobs.delete(m.job);
  }
};
