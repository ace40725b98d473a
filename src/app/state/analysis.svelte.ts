// The open image's analysis as the engine stores and reports it, and the Analysis view's own
// state (package filters, treemap zoom, section). AnalysisResult numbers layers from 1; the app
// (TreeView, LayersPane) from 0 — `layerWaste` is keyed 0-based.
import type { AnalysisResult, AnalysisState, Ecosystem, LayerWaste } from '../../core/analysis/types.ts';
import type { Engine } from '../engine-api.ts';
import { asErrorInfo } from '../lib/error-info.ts';
import type { AnalysisSection } from '../lib/hash.ts';
import { countPackages, filterPackages, type PackageScope } from '../lib/packages.ts';

export class Analysis {
  readonly engine: Engine;
  /** the image whose analysis this is (null: no image open) */
  imageId = $state<string | null>(null);
  /** what the engine reported last; null while the first answer is awaited */
  state = $state.raw<AnalysisState | null>(null);

  ecosystem = $state<Ecosystem | 'all'>('all');
  scope = $state<PackageScope>('squashed');
  search = $state('');
  /** the part of the view the URL points at */
  section = $state<AnalysisSection | null>(null);
  /** treemap: only the files the current layer changed */
  changesOnly = $state(false);
  /** treemap: the directory zoomed into */
  zoom = $state('/');

  /** an event for the image arrived while `analysis(id)` was in flight: it is newer than the answer */
  private eventSinceLoad = false;

  readonly result: AnalysisResult | null = $derived(this.state?.result ?? null);
  readonly running = $derived(this.state?.status === 'running');
  /** per-layer waste by 0-based layer, when the space phase is stored */
  readonly layerWaste: ReadonlyMap<number, LayerWaste> | null = $derived.by(() => {
    const r = this.result;
    if (!r?.phases.space) return null;
    return new Map(r.waste.layers.map((l) => [l.layer - 1, l]));
  });
  readonly packages = $derived(this.result ? filterPackages(this.result.packages, this) : []);
  readonly packageCounts = $derived(countPackages(this.result?.packages ?? [], this));

  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** Follow the engine's reports for whichever image is open; returns the cleanup. */
  follow(): () => void {
    return this.engine.onAnalysis((id, state) => {
      if (id !== this.imageId) return;
      this.eventSinceLoad = true;
      this.state = clean(state);
    });
  }

  /** Ask for the stored analysis of a newly opened image (filters start afresh). */
  async load(id: string): Promise<void> {
    this.reset();
    this.imageId = id;
    this.eventSinceLoad = false;
    let state: AnalysisState;
    try {
      state = await this.engine.analysis(id);
    } catch (err) {
      const { code, message } = asErrorInfo(err);
      state = { status: 'failed', progress: null, result: null, error: { code, message } };
    }
    if (this.imageId !== id || this.eventSinceLoad) return;
    this.state = clean(state);
  }

  reset(): void {
    this.imageId = null;
    this.state = null;
    this.ecosystem = 'all';
    this.scope = 'squashed';
    this.search = '';
    this.section = null;
    this.changesOnly = false;
    this.zoom = '/';
  }
}

/** The error of a failed analysis is shown as it is: keep a leaked stack trace out of it. */
function clean(state: AnalysisState): AnalysisState {
  if (!state.error) return state;
  const { code, message } = asErrorInfo(state.error);
  return { ...state, error: { code, message } };
}
