// The URL hash holds the open view (image, main view, layer, path, mode, filter, analysis section)
// so reload and back/forward restore it. Hashes written before `view=` existed mean the Files view.
// The Compare view needs no open image: its sides are `a`/`al` and `b`/`bl` (image id, layer).
// `#image=docker://REF` (like ?image=REF) asks to pull REF from its registry: stored image ids
// never hold "://", so the ids of existing links keep their meaning.

export const MAIN_VIEWS = ['files', 'config', 'analysis', 'stored', 'compare'] as const;
export type MainView = (typeof MAIN_VIEWS)[number];

/** Parts of the Analysis view a hash can point at (element ids `analysis-<section>`). */
export const ANALYSIS_SECTIONS = ['summary', 'treemap', 'waste', 'hidden', 'packages', 'sbom', 'warnings'] as const;
export type AnalysisSection = (typeof ANALYSIS_SECTIONS)[number];

/** Parts of the Compare view a hash can open. */
export const COMPARE_SECTIONS = ['files', 'packages', 'config', 'layers'] as const;
export type CompareSection = (typeof COMPARE_SECTIONS)[number];
export const DIFF_KINDS = ['added', 'modified', 'deleted'] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

/** A side of a comparison in the hash: a stored image, as of a 0-based layer (its last when absent). */
export interface HashSide { imageId: string; layer?: number }

export interface HashView {
  /** a registry reference to pull (`#image=docker://REF`), never written back */
  registry?: string;
  image?: string; view?: MainView; layer?: number; path?: string; mode?: 'changes' | 'all'; filter?: string;
  /** only with view 'analysis' */
  section?: AnalysisSection;
  /** only with view 'compare': the sides, the section, the kinds of change shown when not all */
  a?: HashSide; b?: HashSide; compareSection?: CompareSection; kinds?: DiffKind[];
}

const isOneOf = <T extends string>(list: readonly T[], v: string | null): v is T => v !== null && (list as readonly string[]).includes(v);

export function parseHash(hash: string): HashView {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const view: HashView = {};
  const image = q.get('image');
  if (image && /^docker:\/\//i.test(image)) view.registry = image.slice('docker://'.length);
  else if (image) view.image = image;
  const main = q.get('view');
  if (isOneOf(MAIN_VIEWS, main) && main !== 'files') view.view = main;
  const layer = Number(q.get('layer'));
  if (q.has('layer') && Number.isInteger(layer) && layer >= 0) view.layer = layer;
  const path = q.get('path');
  if (path && path.startsWith('/')) view.path = path;
  const mode = q.get('mode');
  if (mode === 'changes' || mode === 'all') view.mode = mode;
  const filter = q.get('q');
  if (filter?.trim()) view.filter = filter;
  const section = q.get('section');
  if (view.view === 'analysis' && isOneOf(ANALYSIS_SECTIONS, section)) view.section = section;
  if (view.view === 'compare') {
    for (const s of ['a', 'b'] as const) {
      const id = q.get(s), l = Number(q.get(`${s}l`));
      if (id) view[s] = { imageId: id, ...(q.has(`${s}l`) && Number.isInteger(l) && l >= 0 ? { layer: l } : {}) };
    }
    if (isOneOf(COMPARE_SECTIONS, section)) view.compareSection = section;
    const show = q.get('show');
    if (show !== null) view.kinds = DIFF_KINDS.filter((k) => show.split(',').includes(k));
  }
  return view;
}

export function formatHash(v: HashView): string {
  if (!v.image && v.view !== 'compare') return '';
  const q = new URLSearchParams();
  if (v.image) q.set('image', v.image);
  if (v.view && v.view !== 'files') q.set('view', v.view);
  if (v.layer !== undefined) q.set('layer', String(v.layer));
  if (v.mode) q.set('mode', v.mode);
  if (v.path && v.path !== '/') q.set('path', v.path);
  if (v.filter?.trim()) q.set('q', v.filter);
  if (v.view === 'analysis' && v.section) q.set('section', v.section);
  if (v.view === 'compare') {
    for (const s of ['a', 'b'] as const) {
      const side = v[s];
      if (!side) continue;
      q.set(s, side.imageId);
      if (side.layer !== undefined) q.set(`${s}l`, String(side.layer));
    }
    if (v.compareSection && v.compareSection !== 'files') q.set('section', v.compareSection);
    if (v.kinds && v.kinds.length < DIFF_KINDS.length) q.set('show', v.kinds.join(','));
  }
  // keep "/" readable in paths (and the commas of show=)
  return '#' + q.toString().replace(/%2F/gi, '/').replace(/%2C/gi, ',');
}
