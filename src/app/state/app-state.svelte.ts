// Application state: the open image, import jobs, image choice, stored images, verification
// results and errors. Talks only to the Engine; the tree pane's own state lives in TreeView, the
// image's analysis in Analysis, the Compare view's in CompareState.
import type { ArchiveInfo, ImageMeta, LayerVerify } from '../../core/model.ts';
import type { ErrorInfo } from '../../core/errors.ts';
import { FileTree } from '../../core/tree/file-tree.ts';
import type { Credentials, Engine, ImageSelector, StoredImage } from '../engine-api.ts';
import { registryOriginOf } from '../csp.ts';
import { parseReference } from '../../core/registry/reference.ts';
import { asErrorInfo } from '../lib/error-info.ts';
import { fetchArchive, nameFromUrl } from '../lib/fetch-archive.ts';
import { DIFF_KINDS, formatHash, parseHash, type HashView, type MainView } from '../lib/hash.ts';
import { Analysis } from './analysis.svelte.ts';
import { CompareState } from './compare.svelte.ts';
import { ImportJob } from './import-job.svelte.ts';
import { TreeView } from './tree-view.svelte.ts';

export type { MainView };
export { asErrorInfo };

export interface OpenImage { id: string; meta: ImageMeta; tree: FileTree }

/** A pending "which image?" question for a multi-image archive or multi-platform index. */
export interface ImageChoice { name: string; info: ArchiveInfo; resolve: (index: number | null) => void }

export interface Banner extends ErrorInfo { id: number }

/** A registry asks for credentials: the login form resolves with them, or null when cancelled. */
export interface LoginRequest {
  registry: string;
  /** why: the registry's refusal */
  message: string;
  /** the user name tried last (a wrong password is asked again with it) */
  username?: string;
  resolve: (c: Credentials | null) => void;
}

/**
 * What the page's connect-src allows (csp.ts), and how to reload with a policy that allows a
 * registry it does not (the URL names the registry, so the new page's policy allows it).
 */
export interface ConnectGate { allows(origin: string): boolean; navigate(url: string): void }

export class AppState {
  readonly engine: Engine;
  readonly treeView = new TreeView();
  readonly analysis: Analysis;
  readonly compare: CompareState;
  image = $state.raw<OpenImage | null>(null);
  view = $state<MainView>('files');
  job = $state<ImportJob | null>(null);
  choice = $state.raw<ImageChoice | null>(null);
  login = $state.raw<LoginRequest | null>(null);
  errors = $state<Banner[]>([]);
  stored = $state.raw<StoredImage[]>([]);
  storage = $state.raw<{ usage: number; quota: number } | null>(null);
  /** verification results by layer index, for the open image */
  verify = $state.raw<Record<number, LayerVerify>>({});
  /** layers of the open image whose content is still being expanded after the import */
  expanding = $state.raw<ReadonlySet<number>>(new Set());
  /** the next hash write should add a history entry (image/layer change or a jump) */
  pushNext = false;
  private nextBannerId = 1;
  /** layers whose expansion finished, by image: an image being opened may have been read before */
  private expandedSeen = new Map<string, Set<number>>();
  /** registry credentials by registry host, for this page's life only: never stored */
  private credentials = new Map<string, Credentials>();
  private readonly gate: ConnectGate | null;

  constructor(engine: Engine, gate: ConnectGate | null = null) {
    this.engine = engine;
    this.gate = gate;
    this.analysis = new Analysis(engine);
    this.compare = new CompareState(engine);
  }

  /** Subscribe to engine events; returns the cleanup. */
  start(): () => void {
    const off = this.engine.onVerify((id, layer, v) => {
      if (this.image?.id === id) this.verify = { ...this.verify, [layer]: v };
    });
    // a failed expansion is shown and stays listed: reads of that layer try again (and say why)
    const offExpanded = this.engine.onExpanded((id, layer, error) => {
      if (!error) {
        const seen = this.expandedSeen.get(id) ?? new Set<number>();
        this.expandedSeen.set(id, seen.add(layer));
      }
      if (this.image?.id !== id) return;
      if (error) this.report(error);
      else this.expanding = new Set([...this.expanding].filter((l) => l !== layer));
    });
    const offAnalysis = this.analysis.follow();
    void this.refreshStored();
    return () => { off(); offExpanded(); offAnalysis(); };
  }

  // ---- errors ----

  report(err: unknown): void {
    const info = asErrorInfo(err);
    if (info.code === 'ABORTED') return; // the user cancelled: nothing to explain
    if (this.errors.some((e) => e.message === info.message)) return;
    this.errors.push({ ...info, id: this.nextBannerId++ });
  }

  dismiss(id: number): void {
    this.errors = this.errors.filter((e) => e.id !== id);
  }

  // ---- getting an image in ----

  /**
   * Runs one import as the current job (cancelling the one before): `work` resolves with the
   * stored image's id, which is then opened, or null when the user backed out.
   */
  private async importJob(name: string, work: (job: ImportJob) => Promise<string | null>): Promise<void> {
    if (this.job) this.job.cancel();
    const job = new ImportJob(name);
    this.job = job;
    try {
      const id = await work(job);
      if (id === null) return;
      if (job.signal.aborted) {
        // cancelled (or another archive opened) as the import committed: the user asked for it
        // not to be kept, and a cancelled import stores nothing
        await this.engine.delete(id).catch(() => {});
        return;
      }
      await this.openStored(id);
      void this.refreshStored();
    } catch (err) {
      this.report(err);
    } finally {
      if (this.job === job) this.job = null;
    }
  }

  /** Inspect, ask which image when there are several, import, then open. */
  openArchive(file: Blob, name: string): Promise<void> {
    return this.importJob(name, async (job) => {
      job.update({ phase: 'reading', bytesRead: 0, bytesTotal: file.size });
      // a wrapped archive (docker save | gzip) is decompressed while it is inspected: show it
      const info = await this.engine.inspect(file, name, job.signal, (p) => job.update(p));
      let index = info.images[0]?.index ?? 0;
      if (info.images.length > 1) {
        const chosen = await this.askImage(name, info);
        if (chosen === null) return null;
        index = chosen;
      }
      return this.engine.import(file, name, { image: index }, { signal: job.signal, onProgress: (p) => job.update(p) });
    });
  }

  /** Download from a URL (with progress), then open. */
  async openUrl(url: string, name = nameFromUrl(url)): Promise<void> {
    if (this.job) this.job.cancel();
    const job = new ImportJob(name);
    this.job = job;
    let blob: Blob;
    try {
      job.update({ phase: 'downloading', bytesRead: 0, bytesTotal: 0 });
      blob = await fetchArchive(url, job.signal, (bytes, total) => job.update({ phase: 'downloading', bytesRead: bytes, bytesTotal: total }));
    } catch (err) {
      this.report(err);
      if (this.job === job) this.job = null;
      return;
    }
    if (this.job !== job) return;
    this.job = null;
    await this.openArchive(blob, name);
  }

  /**
   * Pull an image from a registry: list its platforms (asking which one when an index has several
   * and none is named), ask for credentials when the registry wants them, import, then open.
   * A registry the page's policy does not allow yet is opened by reloading with ?image=REF.
   */
  async openRegistry(input: string, sel: ImageSelector = {}): Promise<void> {
    const ref = input.trim().replace(/^docker:\/\//i, '');
    if (!ref) return;
    const origin = registryOriginOf(ref);
    if (origin && this.gate && !this.gate.allows(origin)) {
      const q = new URLSearchParams({ image: ref, ...(sel.platform ? { platform: sel.platform } : {}) });
      this.gate.navigate(`?${q.toString().replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/gi, '@')}`);
      return;
    }
    const host = registryHost(ref);
    return this.importJob(ref, async (job) => {
      job.update({ phase: 'downloading', bytesRead: 0, bytesTotal: 0 });
      let info: ArchiveInfo | null = null;
      while (!info) {
        try {
          info = await this.engine.inspectRegistry(ref, { credentials: this.credentials.get(host), signal: job.signal });
        } catch (err) {
          const e = asErrorInfo(err);
          if (e.code !== 'REGISTRY_UNAUTHORIZED') throw err;
          const c = await this.askLogin(host, e.message);
          if (!c) return null;
          this.credentials.set(host, c);
        }
      }
      let choice = sel;
      if (!sel.platform && sel.image === undefined && info.images.length > 1) {
        const chosen = await this.askImage(ref, info);
        if (chosen === null) return null;
        choice = { image: chosen };
      }
      return this.engine.importRegistry(ref, choice, {
        credentials: this.credentials.get(host), signal: job.signal, onProgress: (p) => job.update(p),
      });
    });
  }

  cancelJob(): void {
    this.job?.cancel();
    this.choice?.resolve(null);
    this.login?.resolve(null);
  }

  private askLogin(registry: string, message: string): Promise<Credentials | null> {
    return new Promise((resolve) => {
      this.login = { registry, message, username: this.credentials.get(registry)?.username, resolve: (c) => { this.login = null; resolve(c); } };
    });
  }

  private askImage(name: string, info: ArchiveInfo): Promise<number | null> {
    return new Promise((resolve) => {
      this.choice = {
        name, info,
        resolve: (i) => { this.choice = null; resolve(i); },
      };
    });
  }

  // ---- the open image ----

  async openStored(id: string, view: HashView = {}): Promise<void> {
    try {
      const { meta, tree, packed } = await this.engine.open(id);
      const ft = new FileTree(tree);
      const last = Math.max(0, tree.layerCount - 1);
      const verify: Record<number, LayerVerify> = {};
      for (const l of meta.layers) if (l.verify) verify[l.index] = l.verify;
      this.verify = verify;
      this.expanding = new Set(packed.filter((l) => !this.expandedSeen.get(id)?.has(l)));
      this.image = { id, meta, tree: ft };
      void this.analysis.load(id);
      this.treeView.reset(ft, Math.min(view.layer ?? last, last));
      if (view.mode) this.treeView.mode = view.mode;
      if (view.filter) this.treeView.filter = view.filter;
      if (view.path) this.revealPath(view.path);
      this.view = view.view ?? 'files';
      this.analysis.section = view.section ?? null;
      this.pushNext = true;
    } catch (err) {
      this.report(err);
    }
  }

  close(): void {
    this.image = null;
    this.treeView.reset(null);
    this.analysis.reset();
    this.verify = {};
    if (this.view !== 'stored') this.view = 'files';
    this.pushNext = true;
  }

  /** Switch the main view (a history entry, so back returns to the previous one). */
  setView(view: MainView): void {
    if (view === this.view) return;
    this.view = view;
    this.pushNext = true;
    if (view === 'stored') void this.refreshStored();
    if (view === 'compare' && !this.compare.a && !this.compare.b) this.compareDefaults();
  }

  /** First sides of the Compare view: the open image's layer before the current one against it,
   *  else the two most recently imported images, else one image's last two layers. */
  private compareDefaults(): void {
    const img = this.image;
    if (img) {
      const k = this.treeView.layer;
      this.compare.setSides({ imageId: img.id, layer: Math.max(0, k - 1) }, { imageId: img.id, layer: k });
    } else if (this.stored.length >= 2) {
      this.compare.setSides({ imageId: this.stored[1].id }, { imageId: this.stored[0].id });
    } else if (this.stored.length === 1) {
      const s = this.stored[0];
      this.compare.setSides({ imageId: s.id, layer: Math.max(0, s.meta.layers.length - 2) }, { imageId: s.id });
    }
  }

  /** Open `path` in the Files view of a stored image (opening that image first), as of 0-based `layer`. */
  async openIn(imageId: string, path: string, layer: number): Promise<void> {
    if (this.image?.id !== imageId) await this.openStored(imageId, { layer });
    if (this.image?.id === imageId) this.openPath(path, layer);
  }

  setLayer(k: number): void {
    if (!this.image || k === this.treeView.layer) return;
    this.treeView.setLayer(k);
    this.pushNext = true;
  }

  /** Jump to a path (and optionally a layer): expand its ancestors and select it. */
  goTo(node: number, layer?: number): void {
    if (layer !== undefined) this.treeView.setLayer(layer);
    this.treeView.reveal(node);
    this.view = 'files';
    this.pushNext = true;
  }

  /**
   * Open a path in the Files view at 0-based `layer`; without one, at the current layer if the
   * path exists there, else at the last layer it exists at. The tree's mode, changes-only and
   * filter make way when they would hide the path.
   */
  openPath(path: string, layer?: number): void {
    const tree = this.image?.tree;
    if (!tree) return;
    const node = tree.lookup(path);
    if (node < 0) {
      this.report({ code: 'NOT_FOUND', message: `${path} is not in this image's file tree.` });
      return;
    }
    let k = layer ?? this.treeView.layer;
    if (layer === undefined && !tree.isLive(node, k)) {
      for (let l = tree.layerCount - 1; l >= 0; l--) if (tree.isLive(node, l)) { k = l; break; }
    }
    this.treeView.setLayer(k);
    this.treeView.makeVisible(node);
    this.goTo(node);
  }

  revealPath(path: string): boolean {
    const node = this.image?.tree.lookup(path) ?? -1;
    if (node < 0) return false;
    this.treeView.reveal(node);
    return true;
  }

  // ---- stored images ----

  async refreshStored(): Promise<void> {
    try {
      const [list, est] = await Promise.all([this.engine.list(), this.engine.estimate()]);
      this.stored = [...list].sort((a, b) => b.importedAt - a.importedAt);
      this.storage = est;
    } catch (err) {
      this.report(err);
    }
  }

  async deleteStored(id: string): Promise<void> {
    try {
      await this.engine.delete(id);
      this.compare.forget(id);
      if (this.image?.id === id) this.close();
    } catch (err) {
      this.report(err);
    }
    await this.refreshStored();
  }

  // ---- URL hash ----

  get hash(): string {
    const img = this.image;
    if (this.view === 'compare') return this.compareHash();
    if (!img) return '';
    const tv = this.treeView;
    const path = tv.cursor >= 0 ? img.tree.path(tv.cursor) : undefined;
    const section = this.analysis.section ?? undefined;
    return formatHash({ image: img.id, view: this.view, layer: tv.layer, mode: tv.mode, path, filter: tv.filter, section });
  }

  private compareHash(): string {
    const c = this.compare, t = c.tree;
    const path = t.nodes[t.cursor]?.path;
    return formatHash({
      image: this.image?.id, view: 'compare', a: c.a ?? undefined, b: c.b ?? undefined, compareSection: c.section,
      path, filter: t.filter, kinds: DIFF_KINDS.filter((k) => t.kinds[k]),
    });
  }

  /** Restore the view a hash describes (on load and on back/forward). */
  async applyHash(hash: string): Promise<void> {
    const v = parseHash(hash);
    if (v.registry) {
      await this.openRegistry(v.registry);
      return;
    }
    if (v.view === 'compare') {
      if (v.image && this.image?.id !== v.image) await this.openStored(v.image, v);
      this.view = 'compare';
      this.compare.apply(v);
      return;
    }
    if (!v.image) {
      if (this.image) this.close();
      return;
    }
    if (this.image?.id !== v.image) {
      await this.openStored(v.image, v);
      return;
    }
    const tv = this.treeView;
    this.view = v.view ?? 'files';
    this.analysis.section = v.section ?? null;
    if (v.layer !== undefined) tv.setLayer(v.layer);
    if (v.mode) tv.mode = v.mode;
    tv.filter = v.filter ?? '';
    if (v.path) this.revealPath(v.path);
    else tv.cursor = -1;
  }
}

/** Credentials are kept per registry host ("docker.io", "127.0.0.1:5000"). */
function registryHost(ref: string): string {
  try {
    return parseReference(ref).registry;
  } catch {
    return ref; // the engine says why it is not a reference
  }
}
