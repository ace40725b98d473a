// Benchmark-only page (npm run bench:browser): drives the real engine (createEngine: coordinator
// worker + decode pool + IndexedDB) on Files set by Playwright, and times each step in the page.
// It exposes `strataBench` for the Node side; the shipped app has no such global.
import { createEngine } from '../../src/app/engine.ts';
import type { Engine, ImportProgress } from '../../src/app/engine-api.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { downloadTar, streamDownload } from '../../src/app/lib/download.ts';
import { PortSink } from '../../src/worker/coordinator/download-port.ts';
import { SPAN, SPANS_AHEAD } from '../../src/worker/coordinator/export-stream.ts';
import { layerContentBlob } from '../../src/storage/index.ts';
import type { LayerVerify } from '../../src/core/model.ts';
import type { RawJob, RawResult } from './raw-protocol.ts';
// the Analysis view's treemap (layout + canvas drawing) over a generated tree: window.treemapBench
import '../../test/app/harness/treemap-bench.ts';
import type { BenchResult as TreemapResult } from '../../test/app/harness/treemap-bench.ts';
import { layerColors, layoutTreemap } from '../../src/app/lib/treemap.ts';
import { drawTreemap } from '../../src/app/lib/treemap-draw.ts';

export interface ImportResult {
  id: string;
  poolSize: number;
  fileBytes: number;
  /** uncompressed bytes of all layers (from the stored meta) */
  layerBytes: number;
  entries: number;
  layers: number;
  /** engine.import() call → resolved (the tree is browsable) */
  ms: number;
  progressEvents: number;
  /** longest time without a progress event between the call and the result */
  maxProgressGapMs: number;
  /** ms after the call at which that gap began */
  maxProgressGapAt: number;
  /** ms after the call at which each phase was first reported */
  phases: Record<string, number>;
  /** with `drop`: engine.inspect() as the app calls it before the import, in ms */
  inspectMs?: number;
  /** with `drop`: from before inspect() (the drop) until the root's names are listed (the first tree row) */
  firstRowMs?: number;
}

export interface ExportResult {
  ms: number; bytes: number; head: string;
  /** a download (not a Blob): when the page had handed the last chunk to the service worker, or the Blob to the browser */
  handedMs?: number;
  /** how that download was made: streamed through the service worker, or a Blob saved */
  how?: 'streamed' | 'blob';
}
export interface ReopenResult { coldMs: number; warmMs: number; entries: number; rootNames: string[] }

const files = (id: string): File[] => [...((document.getElementById(id) as HTMLInputElement).files ?? [])];

let engine: Engine | null = null;
let enginePool = 0;

/** `--no-spare` (browser-bench.ts): the pool without its spare worker, kept across reloads */
const SPARE_KEY = 'strata-bench-spare';

function getEngine(poolSize?: number): Engine {
  const size = poolSize ?? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
  if (!engine || enginePool !== size) {
    engine = createEngine({ ...(poolSize === undefined ? {} : { poolSize }), spare: localStorage.getItem(SPARE_KEY) !== 'no' });
    enginePool = size;
  }
  return engine;
}

function raw(inflate: boolean): Promise<RawResult[]> {
  const w = new Worker(new URL('./raw.worker.ts', import.meta.url), { type: 'module', name: 'bench-raw' });
  return new Promise<RawResult[]>((resolve, reject) => {
    // left running (idle) until the page reloads: the bench reads its thread's CPU time afterwards
    w.onmessage = (ev: MessageEvent<RawResult[]>) => resolve(ev.data);
    w.onerror = (ev) => { w.terminate(); reject(new Error(ev.message)); };
    w.postMessage({ files: files('layers'), inflate } satisfies RawJob);
  });
}

/**
 * The pool's ceiling: `workers` raw workers take the layer blobs largest first, each the next one
 * as it is done (as the import hands layers to its pool), inflate them and run the app's tar reader
 * over the output — what the decodes alone cost, with nothing stored, merged or committed.
 */
async function rawPool(workers: number): Promise<{ ms: number; bytesOut: number; layers: { name: string; start: number; ms: number }[] }> {
  const queue = files('layers').sort((a, b) => b.size - a.size);
  const pool = [...Array(Math.min(workers, queue.length)).keys()].map(() => new Worker(new URL('./raw.worker.ts', import.meta.url), { type: 'module', name: 'bench-raw' }));
  const one = (w: Worker, file: File) => new Promise<RawResult[]>((resolve, reject) => {
    w.onmessage = (ev: MessageEvent<RawResult[]>) => resolve(ev.data);
    w.onerror = (ev) => reject(new Error(ev.message));
    w.postMessage({ files: [file], inflate: true, tar: true } satisfies RawJob);
  });
  let bytesOut = 0;
  const layers: { name: string; start: number; ms: number }[] = [];
  const t0 = performance.now();
  // left running (idle) until the page reloads, as raw() does: the bench reads their CPU time afterwards
  await Promise.all(pool.map(async (w) => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const start = performance.now() - t0;
      for (const r of await one(w, f)) { bytesOut += r.bytesOut; layers.push({ name: r.name, start, ms: r.ms }); }
    }
  }));
  return { ms: performance.now() - t0, bytesOut, layers };
}

interface Expanded { expandMs: number; expandErrors: string[] }

/** When each analysis phase of the last import was stored, in ms after its tree was browsable. */
export interface AnalysisTimes { spaceMs?: number; packagesMs?: number; contentMs?: number; doneMs?: number; error?: string; packages?: number; sensitive?: number }
let analysing: Promise<AnalysisTimes> | null = null;
let verifying: Promise<{ verifyMs: number; verify: LayerVerify['state'][] }> | null = null;
let expanding: Promise<Expanded> | null = null;

/**
 * Imports the File on #archive; resolves when the tree is browsable (verification goes on: see verified()).
 * With `drop`, does what the app does after a drop around it: inspect() first, then open() and the
 * root listed (AppState.openArchive → openStored), timed from before the inspect: "drop → first tree row".
 */
async function importArchive(poolSize?: number, drop = false): Promise<ImportResult> {
  const [file] = files('archive');
  if (!file) throw new Error('no archive set on #archive');
  const e = getEngine(poolSize ?? undefined); // null when the bench passes no pool size
  await e.list(); // the coordinator is up (start-up cleanup done) before the clock starts
  const seen = new Map<number, LayerVerify['state']>();
  let layers = -1;
  let allVerified: () => void = () => {};
  const done = new Promise<void>((r) => { allVerified = r; });
  let importId = '';
  const off = e.onVerify((id, layer, v) => {
    if (id !== importId && importId) return;
    seen.set(layer, v.state);
    if (layers >= 0 && seen.size >= layers) allVerified();
  });
  // compressed layers are expanded after the import (before they are verified)
  let expandEnd = 0;
  const expandErrors: string[] = [];
  const expandedLayers = new Set<number>();
  let packedCount = -1;
  let allExpanded: () => void = () => {};
  const expandDone = new Promise<void>((r) => { allExpanded = r; });
  const offExpanded = e.onExpanded((id, layer, error) => {
    if (id !== importId && importId) return;
    expandEnd = performance.now();
    expandedLayers.add(layer);
    if (error) expandErrors.push(`layer ${layer + 1}: ${error.message}`);
    if (packedCount >= 0 && expandedLayers.size >= packedCount) allExpanded();
  });
  const times: number[] = [];
  const phases: Record<string, number> = {};
  // the analysis starts at the commit, in the background: its phases are timed from the result
  const at: AnalysisTimes = {};
  let analysed: () => void = () => {};
  const analysisDone = new Promise<void>((r) => { analysed = r; });
  let tBrowsable = 0;
  const offAnalysis = e.onAnalysis((id, st) => {
    if (id !== importId && importId) return;
    const t = () => Math.round(performance.now() - (tBrowsable || performance.now()));
    const r = st.result;
    if (r?.phases.space) at.spaceMs ??= t();
    if (r?.phases.packages) at.packagesMs ??= t();
    if (r?.phases.content) at.contentMs ??= t();
    if (st.status !== 'running') {
      at.doneMs = t();
      if (st.error) at.error = st.error.message;
      at.packages = r?.packages.length;
      at.sensitive = r?.sensitive.length;
      analysed();
    }
  });
  const tDrop = performance.now();
  if (drop) await e.inspect(file, file.name);
  const t0 = performance.now();
  importId = await e.import(file, file.name, {}, {
    onProgress: (p: ImportProgress) => {
      const t = performance.now();
      times.push(t);
      layers = p.layers;
      const key = p.phase === 'decoding' ? `layer ${p.layer}` : p.phase;
      phases[key] ??= Math.round(t - t0);
    },
  });
  const t1 = performance.now();
  tBrowsable = t1;
  const firstRowMs = drop ? (await showRoot(e, importId), performance.now() - tDrop) : undefined;
  analysing = analysisDone.then(() => { offAnalysis(); return at; });
  if (layers >= 0 && seen.size >= layers) allVerified();
  verifying = done.then(() => {
    off();
    offExpanded();
    return { verifyMs: performance.now() - t0, verify: [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s) };
  });
  let gap = 0;
  let gapAt = 0;
  let prev = t0;
  for (const t of [...times, t1]) { if (t - prev > gap) { gap = t - prev; gapAt = prev - t0; } prev = t; }
  const stored = (await e.list()).find((s) => s.id === importId);
  const ls = stored?.meta.layers ?? [];
  packedCount = ls.filter((l) => l.compression !== 'none').length;
  if (expandedLayers.size >= packedCount) allExpanded();
  expanding = expandDone.then(() => ({ expandMs: Math.max(expandEnd, t1) - t0, expandErrors }));
  return {
    id: importId, poolSize: enginePool, fileBytes: file.size,
    layerBytes: ls.reduce((a, l) => a + (l.size ?? 0), 0),
    entries: ls.reduce((a, l) => a + (l.entries ?? 0), 0),
    layers: ls.length, ms: t1 - t0,
    progressEvents: times.length, maxProgressGapMs: gap, maxProgressGapAt: gapAt, phases,
    ...(drop ? { inspectMs: t0 - tDrop, firstRowMs } : {}),
  };
}

/** Waits until the last import's analysis is done; when each phase was stored. */
async function analysis(): Promise<AnalysisTimes> {
  if (!analysing) throw new Error('no import to wait for');
  return analysing;
}

/** Waits until every compressed layer of the last import is expanded (its content stored decompressed). */
async function expanded(): Promise<Expanded> {
  if (!expanding) throw new Error('no import to wait for');
  return expanding;
}

/** Waits for the last import's digest checks (each layer's verify event; they follow the expansions). */
async function verified(): Promise<{ verifyMs: number; verify: LayerVerify['state'][] }> {
  if (!verifying) throw new Error('no import to wait for');
  return verifying;
}

/** the last export asked for right after an import (checked against the stored content's later) */
let exportedEarly: Blob | null = null;

/** The flattened tar as a Blob; `opened`: the image was just opened (importArchive with `drop`). */
async function exportTar(id: string, opened = false): Promise<ExportResult> {
  const e = getEngine();
  if (!opened) await e.open(id); // as in the app: the image is open (its tree cached) when Export is clicked
  const t0 = performance.now();
  const blob = await e.exportTar(id, {});
  const ms = performance.now() - t0;
  exportedEarly = opened ? blob : null;
  // a sanity check that the Blob is real: the first member's name
  const head = new TextDecoder().decode(new Uint8Array(await blob.slice(0, 100).arrayBuffer())).replace(/\0.*$/s, '');
  return { ms, bytes: blob.size, head };
}

/**
 * The flattened tar as the app downloads it once its service worker controls the page
 * (src/app/lib/download.ts): streamed to the file when layers are still packed, else a Blob
 * saved. Resolves when the service worker has taken the last chunk (or the Blob was handed to
 * the browser); the Node side waits for the file to be complete.
 */
async function streamExport(id: string): Promise<{ ms: number; how: 'streamed' | 'blob' }> {
  const e = getEngine();
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) throw new Error('no service worker controls the bench page: a streamed download cannot be measured');
  const t0 = performance.now();
  const how = await downloadTar(e, id, {}, 'bench-rootfs.tar');
  return { ms: performance.now() - t0, how };
}

/**
 * The streamed download with nothing to compute: `bytes` of a fixed pattern through the same port
 * protocol (the coordinator's PortSink, here in the page) and service worker into the browser's
 * file — the download path's own ceiling for an export of that size.
 */
async function streamOnly(bytes: number): Promise<{ ms: number }> {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) throw new Error('no service worker controls the bench page');
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  const t0 = performance.now();
  const r = await streamDownload('bench-ceiling.bin', {}, async (port, open) => {
    const sink = new PortSink(port, open);
    for (let at = 0; at < bytes; at += block.length) {
      const wait = sink.put(at + block.length <= bytes ? block : block.subarray(0, bytes - at));
      if (wait) await wait;
    }
    await sink.end();
    return null;
  });
  if (r !== 'streamed') throw new Error('the service worker did not take the download');
  return { ms: performance.now() - t0 };
}

/**
 * Every layer's stored content read as a streamed export reads it (StoredReader's SPAN slices,
 * SPANS_AHEAD ahead of the one in hand) and dropped: the read side of an export from stored content alone.
 */
async function readStored(id: string, layers: number): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  let bytes = 0;
  for (let l = 0; l < layers; l++) {
    let blob: Blob;
    try {
      blob = await layerContentBlob(id, l);
    } catch (e) {
      if ((e as { code?: string }).code === 'NOT_FOUND') continue; // a layer without content
      throw e;
    }
    const reads: Promise<ArrayBuffer>[] = [];
    const at = (i: number) => blob.slice(i * SPAN, Math.min(blob.size, (i + 1) * SPAN)).arrayBuffer();
    const n = Math.ceil(blob.size / SPAN);
    for (let i = 0; i < Math.min(n, SPANS_AHEAD + 1); i++) reads.push(at(i));
    for (let i = 0; i < n; i++) {
      bytes += (await reads[i]).byteLength;
      if (i + SPANS_AHEAD + 1 < n) reads.push(at(i + SPANS_AHEAD + 1));
    }
  }
  return { ms: performance.now() - t0, bytes };
}

/** The export from the stored content now, as sha-256 digests of its 64 MiB slices (to check a downloaded file). */
async function exportSliceDigests(id: string): Promise<{ bytes: number; digests: string[] }> {
  const tar = await getEngine().exportTar(id, {});
  const digests: string[] = [];
  for (let at = 0; at < tar.size; at += SLICE) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await tar.slice(at, at + SLICE).arrayBuffer()));
    digests.push(Array.from(d, (b) => b.toString(16).padStart(2, '0')).join(''));
  }
  return { bytes: tar.size, digests };
}
const SLICE = 64 << 20;

/**
 * After the expansion: the export made right after the import (packed layers inflated into it)
 * against one composed from the stored content now — byte for byte, in 64 MiB slices.
 */
async function checkExportAfter(id: string): Promise<{ equal: boolean; detail: string }> {
  const early = exportedEarly;
  if (!early) return { equal: false, detail: 'no export right after an import to check' };
  exportedEarly = null;
  const late = await getEngine().exportTar(id, {});
  if (late.size !== early.size) return { equal: false, detail: `${early.size} bytes right after the import, ${late.size} from the stored content` };
  const STEP = 64 << 20;
  for (let at = 0; at < late.size; at += STEP) {
    const [a, b] = await Promise.all([early.slice(at, at + STEP).arrayBuffer(), late.slice(at, at + STEP).arrayBuffer()]);
    const x = new Uint8Array(a), y = new Uint8Array(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return { equal: false, detail: `they differ at byte ${at + i}` };
  }
  return { equal: true, detail: `${late.size} bytes equal` };
}

/** From open() to the root's names, as the app does it (FileTree over the transferred tree). */
async function showRoot(e: Engine, id: string): Promise<{ ms: number; entries: number; rootNames: string[] }> {
  const t0 = performance.now();
  const { tree } = await e.open(id);
  const ft = new FileTree(tree);
  const rootNames = ft.listDir(0, Math.max(0, tree.layerCount - 1), 'all').map((n) => ft.name(n));
  return { ms: performance.now() - t0, entries: tree.nodeCount, rootNames };
}

async function reopen(id: string): Promise<ReopenResult> {
  // cold: a fresh engine, as after a reload with #image=… in the URL (worker start-up included)
  const cold = await showRoot(getEngine(), id);
  // warm: the engine is up (the user picks the image from the stored list)
  const fresh = createEngine();
  await fresh.list();
  const warm = await showRoot(fresh, id);
  return { coldMs: cold.ms, warmMs: warm.ms, entries: warm.entries, rootNames: warm.rootNames };
}

/** The treemap of a stored image's tree at its last layer, as the Analysis view draws it: ms per draw. */
async function treemapOf(id: string): Promise<{ files: number; rects: number; ms: number[] }> {
  const { tree } = await getEngine().open(id);
  const ft = new FileTree(tree);
  const canvas = document.getElementById('c') as HTMLCanvasElement;
  const ctx = canvas.getContext('2d')!;
  const style = { colors: layerColors(ft.layerCount, false), dirFill: '#eef1f4', dirText: '#1f2328', font: '11px sans-serif', scale: 1 };
  const ms: number[] = [];
  let files = 0, rects = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const layout = layoutTreemap(ft, ft.layerCount - 1, { width: canvas.width - i, height: canvas.height });
    drawTreemap(ctx, layout, ft, style);
    ctx.getImageData(0, 0, 1, 1); // the drawing is done, not only queued
    ms.push(performance.now() - t0);
    files = layout.files;
    rects = layout.rects.length;
  }
  return { files, rects, ms };
}

/** A file read right after an import: which layer, how far into it, and when its first 64 KiB came. */
export interface FileRead { layer: number; offset: number; layerSize: number; ms: number }

/** what readLastFiles read, to be read again once stored (checkLastReads) */
let lastReads: { layer: number; offset: number; bytes: Uint8Array }[] = [];

/** After the expansion: each of readLastFiles' reads again, now from the stored content; the count of equal ones. */
async function checkLastReads(id: string): Promise<number> {
  for (const r of lastReads) {
    const again = await getEngine().readRange(id, r.layer, r.offset, r.bytes.length);
    if (again.length !== r.bytes.length || again.some((x, i) => x !== r.bytes[i])) throw new Error(`layer ${r.layer + 1}, offset ${r.offset}: read right after the import differs from the stored content`);
  }
  return lastReads.length;
}

/**
 * Right after an import, as a user clicking a file would: the first 64 KiB of the last file of
 * each layer with content, all asked for at once (or of the largest layer only); ms from the call
 * until each one's bytes came.
 */
async function readLastFiles(id: string, onlyLargest = false): Promise<FileRead[]> {
  lastReads = [];
  const e = getEngine();
  const { tree, meta } = await e.open(id);
  const last = new Map<number, number>();
  for (let i = 0; i < tree.iType.length; i++) {
    const l = tree.iLayer[i];
    if (l < 0 || tree.iSize[i] === 0) continue;
    const j = last.get(l);
    if (j === undefined || tree.iOffset[i] > tree.iOffset[j]) last.set(l, i);
  }
  const largest = [...last.keys()].reduce((a, l) => ((meta.layers[l]?.size ?? 0) > (meta.layers[a]?.size ?? 0) ? l : a));
  const t0 = performance.now();
  return Promise.all([...last].filter(([l]) => !onlyLargest || l === largest).map(async ([layer, i]) => {
    const length = Math.min(tree.iSize[i], 64 << 10);
    const bytes = await e.readRange(id, layer, tree.iOffset[i], length);
    if (bytes.length !== length) throw new Error(`layer ${layer + 1}: ${bytes.length} bytes read of ${length}`);
    lastReads.push({ layer, offset: tree.iOffset[i], bytes });
    return { layer, offset: tree.iOffset[i], layerSize: meta.layers[layer]?.size ?? 0, ms: performance.now() - t0 };
  }));
}

const treemapGenerated = (files: number): TreemapResult =>
  (globalThis as unknown as { treemapBench: (n: number) => TreemapResult }).treemapBench(files);

// the download-only service worker (bench/vite.config.ts): streamed downloads as the app makes them
void navigator.serviceWorker?.register('./sw.js');

const api = {
  hardwareConcurrency: () => navigator.hardwareConcurrency,
  setSpare: (on: boolean) => { if (on) localStorage.removeItem(SPARE_KEY); else localStorage.setItem(SPARE_KEY, 'no'); engine = null; },
  rawInflate: () => raw(true),
  rawRead: () => raw(false),
  rawPool,
  importArchive,
  expanded,
  verified,
  analysis,
  treemapOf,
  treemapGenerated,
  readLastFiles,
  checkLastReads,
  exportTar,
  checkExportAfter,
  streamExport,
  streamOnly,
  exportSliceDigests,
  readStored,
  reopen,
  delete: (id: string) => getEngine().delete(id),
  list: async () => (await getEngine().list()).map((s) => ({ id: s.id, name: s.meta.image.name, bytes: s.totalBytes })),
  estimate: () => getEngine().estimate(),
};
export type BenchApi = typeof api;
(globalThis as unknown as { strataBench: BenchApi }).strataBench = api;
