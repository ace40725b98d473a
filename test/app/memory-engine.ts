// Test-only Engine: serves hand-built images from memory. Never shipped (lives under test/).
import type { ArchiveInfo, EncodedTree, ImageMeta, LayerInfo, LayerVerify } from '../../src/core/model.ts';
import { type ErrorInfo, StrataError } from '../../src/core/errors.ts';
import type { CompareSide, Credentials, Engine, ImageSelector, ImportProgress, StoredImage, WriteImageRequest, WriteProgress } from '../../src/app/engine-api.ts';
import { Comparer, type SidePackages } from '../../src/core/compare/index.ts';
import type { Comparison, HashWork } from '../../src/core/compare/types.ts';
import { jsSha256 } from '../../src/core/env.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import type { AnalysisState, SbomFormat, SbomScope } from '../../src/core/analysis/types.ts';
import { buildImage, type Op } from '../core/tree/tree-builder.ts';

export interface MemoryImage {
  name: string; layers: Op[][]; createdBy?: string[]; platform?: { os: string; architecture: string };
  /** what `analysis(id)` serves once imported (default: still running, nothing stored yet) */
  analysis?: AnalysisState;
}

/** The analysis of an image the test gave none: it has not got anywhere yet. */
export const ANALYSIS_PENDING: AnalysisState = { status: 'running', progress: { phase: 'waiting to start', done: 0, total: 0 }, result: null };

export class MemoryEngine implements Engine {
  readonly archives = new Map<string, MemoryImage[]>();
  readonly images = new Map<string, { meta: ImageMeta; tree: EncodedTree; streams: Uint8Array[]; importedAt: number }>();
  readonly calls: string[] = [];
  private listeners = new Set<(id: string, layer: number, v: LayerVerify) => void>();
  private expandedListeners = new Set<(id: string, layer: number, error?: ErrorInfo) => void>();
  private analysisListeners = new Set<(id: string, state: AnalysisState) => void>();
  /** the analysis state per stored image: set it (or `emitAnalysis`) to drive the Analysis view */
  readonly analyses = new Map<string, AnalysisState>();
  /** what `open` reports as still being expanded (the real engine expands compressed layers after an import) */
  packedOnOpen: number[] = [];
  private nextId = 1;
  /** make the next call of this method fail with this error */
  failNext: { method: string; error: unknown } | null = null;
  /** writeImage reports progress in 5 steps this many ms apart (a test can cancel in between) */
  writeStepMs = 0;
  /** compare waits this long between its summary and the hashing (a test can see the pending state) */
  compareHashDelayMs = 0;
  /** every compare request, in order */
  readonly compares: { a: CompareSide; b: CompareSide }[] = [];
  private trees = new Map<string, FileTree>();
  /** the last writeImage request, and whether it was cancelled */
  lastWrite: { id: string; req: WriteImageRequest; cancelled: boolean } | null = null;

  /** Register what an archive (by name) contains. */
  addArchive(name: string, images: MemoryImage[]): void { this.archives.set(name, images); }

  /** images in registries, by reference; `login` makes the registry want those credentials */
  readonly registries = new Map<string, { images: MemoryImage[]; login?: Credentials }>();
  /** every registry call, with the credentials it carried (to prove what was sent) */
  readonly registryCalls: { method: string; ref: string; credentials?: Credentials; sel?: ImageSelector }[] = [];

  /** Register an image (or an index: several platforms) at a reference. */
  addRegistryImage(ref: string, images: MemoryImage[], login?: Credentials): void { this.registries.set(ref, { images, login }); }

  private registryEntry(method: string, ref: string, credentials?: Credentials, sel?: ImageSelector) {
    this.registryCalls.push({ method, ref, credentials, sel });
    const r = this.registries.get(ref);
    if (!r) throw new StrataError('REGISTRY_NOT_FOUND', `${ref}: the registry has no such image (404 Not Found, MANIFEST_UNKNOWN).`);
    if (r.login && (r.login.username !== credentials?.username || r.login.password !== credentials?.password)) {
      throw new StrataError('REGISTRY_UNAUTHORIZED', credentials
        ? `${ref}: the registry refused the credentials of user "${credentials.username}" (401 Unauthorized).`
        : `${ref}: the registry needs credentials (401 Unauthorized). Enter a user name and password for this registry.`);
    }
    return r;
  }

  async inspectRegistry(ref: string, opts: { credentials?: Credentials; signal?: AbortSignal } = {}): Promise<ArchiveInfo> {
    this.check('inspectRegistry', opts.signal);
    const r = this.registryEntry('inspectRegistry', ref, opts.credentials);
    return {
      format: 'registry', outerCompression: 'none', skipped: [],
      images: r.images.map((m, index) => ({ index, name: ref, tags: [ref], platform: m.platform, layerCount: r.images.length > 1 ? 0 : m.layers.length })),
    };
  }

  async importRegistry(ref: string, sel: ImageSelector, opts: { credentials?: Credentials; signal?: AbortSignal; onProgress?: (p: ImportProgress) => void }): Promise<string> {
    this.check('importRegistry', opts.signal);
    const r = this.registryEntry('importRegistry', ref, opts.credentials, sel);
    const plat = sel.platform?.split('/');
    const index = plat ? r.images.findIndex((m) => m.platform?.os === plat[0] && m.platform.architecture === plat[1]) : Number(sel.image ?? 0);
    if (index < 0) throw new StrataError('IMAGE_NOT_FOUND', `${ref} has no image for platform ${sel.platform}.`);
    const m = r.images[index];
    const pulls = m.layers.map(() => ({ bytes: 0, total: 100, state: 'waiting' as const }));
    for (let i = 0; i < m.layers.length; i++) {
      opts.onProgress?.({ phase: 'downloading', bytesRead: i * 100, bytesTotal: m.layers.length * 100, layer: 0, layers: m.layers.length, pulls: pulls.map((p, k) => (k < i ? { ...p, bytes: 100, state: 'decoding' as const } : k === i ? { ...p, bytes: 50, state: 'downloading' as const } : p)) });
      await Promise.resolve();
      if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
    }
    const name = `registry:${ref}`;
    this.archives.set(name, [m]);
    const id = await this.import(new Blob([]), name, { image: 0 }, { signal: opts.signal });
    const img = this.images.get(id)!;
    img.meta = { ...img.meta, format: 'registry', source: { name: ref, size: 0, registry: { reference: ref, digest: `sha256:${'ab'.repeat(32)}` } } };
    return id;
  }

  private check(method: string, signal?: AbortSignal): void {
    this.calls.push(method);
    if (signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
    if (this.failNext?.method === method) { const e = this.failNext.error; this.failNext = null; throw e; }
  }

  async inspect(_file: Blob, name: string, signal?: AbortSignal): Promise<ArchiveInfo> {
    this.check('inspect', signal);
    const imgs = this.archives.get(name);
    if (!imgs) throw new StrataError('NOT_AN_IMAGE', `${name} is not an image archive: no manifest.json, index.json or repositories file.`);
    return {
      format: 'oci-layout', outerCompression: 'none', skipped: [],
      images: imgs.map((m, index) => ({ index, name: m.name, tags: [m.name], platform: m.platform, layerCount: m.layers.length })),
    };
  }

  async import(file: Blob, name: string, sel: { image?: string | number }, opts: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void }): Promise<string> {
    this.check('import', opts.signal);
    const info = this.archives.get(name)!;
    const m = info[Number(sel.image ?? 0)];
    for (let i = 0; i < m.layers.length; i++) {
      opts.onProgress?.({ phase: 'decoding', bytesRead: (i + 1) * 100, bytesTotal: m.layers.length * 100, layer: i + 1, layers: m.layers.length });
      await Promise.resolve();
      if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
    }
    const { tree, streams } = buildImage(m.layers);
    const layers: LayerInfo[] = m.layers.map((ops, index) => ({
      index, mediaType: 'application/vnd.oci.image.layer.v1.tar', compression: 'none', compressedSize: streams[index].length,
      size: streams[index].length, member: `blobs/sha256/${index}`, digest: `sha256:${String(index).repeat(64).slice(0, 64)}`,
      createdBy: m.createdBy?.[index], added: ops.length, modified: 0, deleted: 0, verify: { state: 'pending' },
    }));
    const meta: ImageMeta = {
      source: { name, size: file.size }, format: 'oci-layout',
      image: { index: Number(sel.image ?? 0), name: m.name, tags: [m.name], layerCount: layers.length },
      config: { env: ['PATH=/bin'], entrypoint: null, cmd: ['/bin/sh'], exposedPorts: [], volumes: [], labels: {} },
      history: layers.map((l) => ({ createdBy: l.createdBy, emptyLayer: false, layer: l.index })),
      layers, rawConfig: '{}',
    };
    const id = `img${this.nextId++}`;
    this.images.set(id, { meta, tree, streams, importedAt: Date.now() });
    this.analyses.set(id, m.analysis ?? ANALYSIS_PENDING);
    return id;
  }

  async list(): Promise<StoredImage[]> {
    this.check('list');
    return [...this.images].map(([id, v]) => ({ id, meta: v.meta, importedAt: v.importedAt, totalBytes: v.streams.reduce((s, x) => s + x.length, 0) }));
  }

  async open(id: string) {
    this.check('open');
    const img = this.images.get(id);
    if (!img) throw new StrataError('NOT_FOUND', `No stored image ${id}. It may have been deleted; import it again.`);
    return { meta: img.meta, tree: img.tree, packed: [...this.packedOnOpen] };
  }

  async readRange(id: string, layer: number, offset: number, length: number): Promise<Uint8Array> {
    this.check('readRange');
    return this.images.get(id)!.streams[layer].slice(offset, offset + length);
  }

  async fileBlob(id: string, layer: number, offset: number, size: number): Promise<Blob> {
    this.check('fileBlob');
    return new Blob([this.images.get(id)!.streams[layer].slice(offset, offset + size)]);
  }

  async exportTar(_id: string, opts: { layer?: number; path?: string; gzip?: boolean }): Promise<Blob> {
    this.check('exportTar');
    return new Blob([JSON.stringify(opts)]);
  }

  async writeImage(id: string, req: WriteImageRequest, opts: { signal?: AbortSignal; onProgress?: (p: WriteProgress) => void } = {}): Promise<Blob> {
    this.check('writeImage', opts.signal);
    const write = { id, req, cancelled: false };
    this.lastWrite = write;
    if (!this.images.has(id)) throw new StrataError('NOT_FOUND', `No stored image ${id}. It may have been deleted; import it again.`);
    const total = 500;
    for (let step = 1; step <= 5; step++) {
      await new Promise((r) => setTimeout(r, this.writeStepMs));
      if (opts.signal?.aborted) { write.cancelled = true; throw new StrataError('ABORTED', 'The operation was cancelled.'); }
      opts.onProgress?.({ phase: step < 3 ? 'layer' : 'compressing', done: step * 100, total });
    }
    return new Blob([JSON.stringify({ id, ...req })], { type: 'application/x-tar' });
  }

  async delete(id: string): Promise<void> {
    this.check('delete');
    this.images.delete(id);
  }

  async estimate() {
    this.check('estimate');
    return { usage: 1234, quota: 1_000_000 };
  }

  onVerify(cb: (id: string, layer: number, v: LayerVerify) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  onExpanded(cb: (id: string, layer: number, error?: ErrorInfo) => void): () => void {
    this.expandedListeners.add(cb);
    return () => this.expandedListeners.delete(cb);
  }

  emitExpanded(id: string, layer: number, error?: ErrorInfo): void {
    for (const cb of this.expandedListeners) cb(id, layer, error);
  }

  emitVerify(id: string, layer: number, v: LayerVerify): void {
    for (const cb of this.listeners) cb(id, layer, v);
  }

  async analysis(id: string): Promise<AnalysisState> {
    this.check('analysis');
    const state = this.analyses.get(id);
    if (!state) throw new StrataError('NOT_FOUND', `No stored image ${id}. It may have been deleted; import it again.`);
    return state;
  }

  onAnalysis(cb: (id: string, state: AnalysisState) => void): () => void {
    this.analysisListeners.add(cb);
    return () => this.analysisListeners.delete(cb);
  }

  /** Store a new analysis state for an image and report it, as the real engine does as it goes. */
  emitAnalysis(id: string, state: AnalysisState): void {
    this.analyses.set(id, state);
    for (const cb of this.analysisListeners) cb(id, state);
  }

  /** The core comparison over the in-memory images, summary first, as the real engine runs it on its worker. */
  async compare(a: CompareSide, b: CompareSide, opts: { signal?: AbortSignal; onSummary?: (c: Comparison) => void; onProgress?: (w: HashWork) => void } = {}): Promise<Comparison> {
    this.check('compare', opts.signal);
    this.compares.push({ a, b });
    const side = (s: CompareSide) => {
      const img = this.images.get(s.imageId);
      if (!img) throw new StrataError('NOT_FOUND', `No stored image ${s.imageId}: it was deleted, or its import did not finish.`);
      let tree = this.trees.get(s.imageId);
      if (!tree) this.trees.set(s.imageId, (tree = new FileTree(img.tree)));
      const n = img.meta.layers.length, layer = s.layer ?? n - 1;
      if (layer < 0 || layer >= n) throw new StrataError('BAD_OPTION', `Layer ${layer + 1} of ${img.meta.image.name} cannot be compared: the image has ${n} layers.`);
      return { id: s.imageId, meta: img.meta, tree, layer };
    };
    const packages = (id: string): SidePackages => {
      const r = this.analyses.get(id)?.result;
      return r?.phases.packages ? { records: r.packages } : { missing: 'its analysis is still listing them' };
    };
    const c = new Comparer(side(a), side(b));
    const summary = c.summary({ a: packages(a.imageId), b: packages(b.imageId) });
    opts.onSummary?.(structuredClone(summary));
    if (summary.complete) return summary;
    await new Promise((r) => setTimeout(r, this.compareHashDelayMs));
    if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The comparison was cancelled.');
    const streams = { a: this.images.get(a.imageId)!.streams, b: this.images.get(b.imageId)!.streams };
    return c.settle(summary, {
      read: async (s, layer, offset, length) => streams[s][layer].slice(offset, offset + length),
      sha256: jsSha256,
    }, { signal: opts.signal, onProgress: opts.onProgress });
  }

  /** A small JSON document naming what was asked for (tests compare the download with it). */
  static sbomText(id: string, format: SbomFormat, scope: SbomScope): string {
    return JSON.stringify({ test: 'memory-engine sbom', image: id, format, scope });
  }

  async sbom(id: string, format: SbomFormat, scope: SbomScope): Promise<Blob> {
    this.check('sbom');
    if (!this.analyses.get(id)?.result?.phases.packages) {
      throw new StrataError('NOT_FOUND', 'No package list for this image yet: wait for the analysis to read the package databases.');
    }
    return new Blob([MemoryEngine.sbomText(id, format, scope)], { type: 'application/json' });
  }
}
