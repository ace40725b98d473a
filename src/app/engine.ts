/// <reference types="vite/client" />
// The Engine the UI talks to: a bridge to the coordinator worker, which owns imports and storage,
// and a pool of decode workers wired to it by MessageChannels. The main thread only passes Blob
// references and small messages; it never reads image bytes.
import { type ErrorInfo, StrataError } from '../core/errors.ts';
import type { ArchiveInfo, LayerVerify } from '../core/model.ts';
import type { Engine, ImageSelector, ImportProgress, StoredImage } from './engine-api.ts';
import { unpackComparison } from '../core/compare/packed.ts';
import type { AnalysisState } from '../core/analysis/types.ts';
import type { CompareWireProgress, Reply, Request, ResultMap } from '../worker/protocol.ts';
import coordinatorUrl from '../worker/coordinator.worker.ts?worker&url';

/**
 * The coordinator runs under the page's Content-Security-Policy: a worker loaded from its own URL
 * gets the policy of that response (none, from a static host) — Chromium let such a worker fetch
 * any origin while the page's connect-src refused it —, but a worker started from a blob: URL
 * inherits the page's, including the connect-src that csp.ts narrows to what the URL names. So
 * the coordinator, which makes every registry request, starts as a one-line blob: module that
 * imports the real one.
 */
function pagePolicedWorker(url: string, name: string): Worker {
  const real = new URL(url, import.meta.url).href;
  const boot = URL.createObjectURL(new Blob([`import ${JSON.stringify(real)};\n`], { type: 'text/javascript' }));
  return new Worker(boot, { type: 'module', name });
}

interface Call { resolve: (v: unknown) => void; reject: (e: Error) => void; onProgress?: (p: never) => void }

/**
 * `poolSize`: decode workers for all jobs (default: one per core, at most 4); `spare`: one more, for
 * an import's decodes when its layers are of like sizes (coordinator/pool.ts), with two or more.
 */
export function createEngine(opts: { poolSize?: number; spare?: boolean } = {}): Engine {
  const coordinator = pagePolicedWorker(coordinatorUrl, 'strata-coordinator');
  const size = opts.poolSize ?? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
  const spare = size >= 2 && (opts.spare ?? true);
  for (let i = 0; i < size + (spare ? 1 : 0); i++) {
    const w = new Worker(new URL('../worker/decode.worker.ts', import.meta.url), { type: 'module', name: `strata-decode-${i}` });
    const ch = new MessageChannel();
    w.postMessage({ port: ch.port1 }, [ch.port1]);
    coordinator.postMessage({ type: 'port', port: ch.port2, spare: i === size }, [ch.port2]);
  }
  const calls = new Map<number, Call>();
  const verifyListeners = new Set<(id: string, layer: number, v: LayerVerify) => void>();
  const expandedListeners = new Set<(id: string, layer: number, error?: ErrorInfo) => void>();
  const analysisListeners = new Set<(id: string, state: AnalysisState) => void>();
  let nextId = 1;

  coordinator.onmessage = (ev: MessageEvent<Reply>) => {
    const m = ev.data;
    if (m.type === 'verify') { for (const l of verifyListeners) l(m.imageId, m.layer, m.verify); return; }
    if (m.type === 'expanded') { for (const l of expandedListeners) l(m.imageId, m.layer, m.error); return; }
    if (m.type === 'analysis') { for (const l of analysisListeners) l(m.imageId, m.state); return; }
    const c = calls.get(m.id);
    if (!c) return;
    if (m.type === 'progress' || m.type === 'writeProgress' || m.type === 'compareProgress') { (c.onProgress as ((p: unknown) => void) | undefined)?.(m.progress); return; }
    if (m.type === 'streaming') { (c.onProgress as ((p: unknown) => void) | undefined)?.(null); return; }
    calls.delete(m.id);
    if (m.type === 'error') c.reject(new StrataError(m.error.code === 'INTERNAL' ? 'IO' : m.error.code, m.error.message));
    else c.resolve(m.value);
  };
  coordinator.onerror = (ev) => {
    const err = new StrataError('IO', `The background worker failed: ${ev.message || 'unknown error'}. Reload the page.`);
    for (const c of calls.values()) c.reject(err);
    calls.clear();
  };

  function call<K extends keyof ResultMap, P = ImportProgress>(req: Request & { type: K }, signal?: AbortSignal, onProgress?: (p: P) => void, transfer: Transferable[] = []): Promise<ResultMap[K]> {
    const id = nextId++;
    return new Promise<ResultMap[K]>((resolve, reject) => {
      if (signal?.aborted) { reject(new StrataError('ABORTED', 'The operation was cancelled.')); return; }
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      signal?.addEventListener('abort', () => coordinator.postMessage({ id: nextId++, type: 'cancel', target: id }), { once: true });
      coordinator.postMessage({ id, ...req }, transfer);
    });
  }

  if (typeof navigator !== 'undefined' && navigator.storage?.persist) void navigator.storage.persist().catch(() => false);

  return {
    inspect: (file: Blob, name: string, signal?: AbortSignal, onProgress?: (p: ImportProgress) => void): Promise<ArchiveInfo> => call({ type: 'inspect', file, name }, signal, onProgress),
    import: (file: Blob, name: string, sel: ImageSelector, o) => call({ type: 'import', file, name, sel }, o.signal, o.onProgress),
    inspectRegistry: (ref, o = {}) => call({ type: 'inspectRegistry', ref, credentials: o.credentials }, o.signal),
    importRegistry: (ref, sel, o) => call({ type: 'importRegistry', ref, sel, credentials: o.credentials }, o.signal, o.onProgress),
    list: (): Promise<StoredImage[]> => call({ type: 'list' }),
    open: (imageId) => call({ type: 'open', imageId }),
    readRange: (imageId, layer, offset, length) => call({ type: 'readRange', imageId, layer, offset, length }),
    fileBlob: (imageId, layer, offset, size) => call({ type: 'fileBlob', imageId, layer, offset, size }),
    exportTar: (imageId, o) => call({ type: 'exportTar', imageId, ...o }),
    exportToPort: (imageId, o, port, opts) => call({ type: 'exportToPort', imageId, ...o, port }, opts.signal, opts.onStreaming, [port]),
    writeImage: (imageId, req, o = {}) => call({ type: 'writeImage', imageId, req }, o.signal, o.onProgress),
    delete: (imageId) => call({ type: 'delete', imageId }),
    estimate: () => call({ type: 'estimate' }),
    onVerify(cb) { verifyListeners.add(cb); return () => verifyListeners.delete(cb); },
    onExpanded(cb) { expandedListeners.add(cb); return () => expandedListeners.delete(cb); },
    analysis: (imageId) => call({ type: 'analysis', imageId }),
    onAnalysis(cb) { analysisListeners.add(cb); return () => analysisListeners.delete(cb); },
    sbom: (imageId, format, scope) => call({ type: 'sbom', imageId, format, scope }),
    compare: async (a, b, o = {}) => unpackComparison(await call({ type: 'compare', a, b }, o.signal,
      (p: CompareWireProgress) => { if ('summary' in p) o.onSummary?.(unpackComparison(p.summary)); else o.onProgress?.(p.hashing); })),
  };
}
