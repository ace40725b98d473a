// Config and layer changes between two sides. The config is the image's (one per image, whatever
// the layer); the history counts the entries up to the side's layer, as a cut at that layer keeps.
import type { ConfigSummary, ImageMeta } from '../model.ts';
import type { ConfigChange, ConfigField, LayerComparison } from './types.ts';

export function compareConfig(a: ImageMeta, layerA: number, b: ImageMeta, layerB: number): ConfigChange[] {
  const out: ConfigChange[] = [];
  const ca = a.config, cb = b.config;
  keyed(out, 'env', envMap(ca.env), envMap(cb.env));
  single(out, 'entrypoint', list(ca.entrypoint), list(cb.entrypoint));
  single(out, 'cmd', list(ca.cmd), list(cb.cmd));
  single(out, 'user', ca.user || null, cb.user || null);
  single(out, 'workingDir', ca.workingDir || null, cb.workingDir || null);
  keyed(out, 'exposedPorts', setMap(ca.exposedPorts), setMap(cb.exposedPorts));
  keyed(out, 'volumes', setMap(ca.volumes), setMap(cb.volumes));
  keyed(out, 'labels', new Map(Object.entries(ca.labels)), new Map(Object.entries(cb.labels)));
  single(out, 'stopSignal', ca.stopSignal || null, cb.stopSignal || null);
  single(out, 'platform', platform(ca), platform(cb));
  single(out, 'history', String(historyLength(a, layerA)), String(historyLength(b, layerB)));
  return out;
}

/** History entries up to and including the one of 0-based `layer` (empty_layer entries before it too). */
export function historyLength(meta: ImageMeta, layer: number): number {
  if (layer >= meta.layers.length - 1) return meta.history.length;
  const at = meta.history.findIndex((h) => h.layer === layer);
  return at < 0 ? meta.history.length : at + 1;
}

/** Variables by name; a later duplicate wins, as in the runtime's environment. */
function envMap(env: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

const setMap = (xs: string[]) => new Map(xs.map((x) => [x, '']));
const list = (xs: string[] | null) => (xs === null ? null : JSON.stringify(xs));
const platform = (c: ConfigSummary) => [c.os, c.architecture, c.variant].filter(Boolean).join('/') || null;

function single(out: ConfigChange[], field: ConfigField, a: string | null, b: string | null): void {
  if (a === b) return;
  out.push({ field, change: a === null ? 'added' : b === null ? 'removed' : 'changed', a, b });
}

function keyed(out: ConfigChange[], field: ConfigField, a: Map<string, string>, b: Map<string, string>): void {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const valued = field === 'env' || field === 'labels';
  for (const key of keys) {
    const x = a.get(key), y = b.get(key);
    if (x === y) continue;
    const change = x === undefined ? 'added' : y === undefined ? 'removed' : 'changed';
    out.push({ field, key, change, a: x === undefined ? null : valued ? x : key, b: y === undefined ? null : valued ? y : key });
  }
}

/**
 * Leading layers shared (same diff_id) and B's layers A lacks, each side up to its layer. Two
 * layers of one image share their common layers even where the archive gave no diff_ids.
 */
export function compareLayers(a: ImageMeta, layerA: number, b: ImageMeta, layerB: number, sameImage: boolean): LayerComparison {
  const key = (m: ImageMeta, i: number) => m.layers[i]?.diffId ?? (sameImage ? `#${i}` : null);
  const na = layerA + 1, nb = layerB + 1;
  let shared = 0;
  while (shared < Math.min(na, nb) && key(a, shared) !== null && key(a, shared) === key(b, shared)) shared++;
  const inA = new Set<string>();
  for (let i = 0; i < na; i++) { const k = key(a, i); if (k !== null) inA.add(k); }
  const newInB: number[] = [];
  for (let i = 0; i < nb; i++) { const k = key(b, i); if (k === null || !inA.has(k)) newInB.push(i + 1); }
  return { layersA: na, layersB: nb, shared, newInB };
}
