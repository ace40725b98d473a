// The URL hash holds the open view (image, layer, path, mode, filter) so reload and back/forward
// restore it.

export interface HashView { image?: string; layer?: number; path?: string; mode?: 'changes' | 'all'; filter?: string }

export function parseHash(hash: string): HashView {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const view: HashView = {};
  const image = q.get('image');
  if (image) view.image = image;
  const layer = Number(q.get('layer'));
  if (q.has('layer') && Number.isInteger(layer) && layer >= 0) view.layer = layer;
  const path = q.get('path');
  if (path && path.startsWith('/')) view.path = path;
  const mode = q.get('mode');
  if (mode === 'changes' || mode === 'all') view.mode = mode;
  const filter = q.get('q');
  if (filter?.trim()) view.filter = filter;
  return view;
}

export function formatHash(v: HashView): string {
  if (!v.image) return '';
  const q = new URLSearchParams();
  q.set('image', v.image);
  if (v.layer !== undefined) q.set('layer', String(v.layer));
  if (v.mode) q.set('mode', v.mode);
  if (v.path && v.path !== '/') q.set('path', v.path);
  if (v.filter?.trim()) q.set('q', v.filter);
  // keep "/" readable in paths
  return '#' + q.toString().replace(/%2F/gi, '/');
}
