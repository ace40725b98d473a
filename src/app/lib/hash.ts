// The URL hash holds the open view (image, main view, layer, path, mode, filter, analysis section)
// so reload and back/forward restore it. Hashes written before `view=` existed mean the Files view.

export const MAIN_VIEWS = ['files', 'config', 'analysis', 'stored'] as const;
export type MainView = (typeof MAIN_VIEWS)[number];

/** Parts of the Analysis view a hash can point at (element ids `analysis-<section>`). */
export const ANALYSIS_SECTIONS = ['summary', 'treemap', 'waste', 'hidden', 'packages', 'sbom', 'warnings'] as const;
export type AnalysisSection = (typeof ANALYSIS_SECTIONS)[number];

export interface HashView {
  image?: string; view?: MainView; layer?: number; path?: string; mode?: 'changes' | 'all'; filter?: string;
  /** only with view 'analysis' */
  section?: AnalysisSection;
}

const isOneOf = <T extends string>(list: readonly T[], v: string | null): v is T => v !== null && (list as readonly string[]).includes(v);

export function parseHash(hash: string): HashView {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const view: HashView = {};
  const image = q.get('image');
  if (image) view.image = image;
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
  return view;
}

export function formatHash(v: HashView): string {
  if (!v.image) return '';
  const q = new URLSearchParams();
  q.set('image', v.image);
  if (v.view && v.view !== 'files') q.set('view', v.view);
  if (v.layer !== undefined) q.set('layer', String(v.layer));
  if (v.mode) q.set('mode', v.mode);
  if (v.path && v.path !== '/') q.set('path', v.path);
  if (v.filter?.trim()) q.set('q', v.filter);
  if (v.view === 'analysis' && v.section) q.set('section', v.section);
  // keep "/" readable in paths
  return '#' + q.toString().replace(/%2F/gi, '/');
}
