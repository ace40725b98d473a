// `strata analyze` and `strata sbom`: the core analysis over the CLI's decoded layers (spool files
// or ranges of the archive), a readable summary or the result as JSON, and SBOM documents.
import { availableParallelism } from 'node:os';
import { analyzeImage, type ScanItem } from '../core/analysis/analyze.ts';
import type { ContentHit } from '../core/analysis/sensitive.ts';
import { FileContent } from './file-content.ts';
import { DecodePool } from './pool.ts';
import { writeSbom } from '../core/analysis/sbom/index.ts';
import { ECOSYSTEMS, type AnalysisResult, type SbomFormat, type SbomScope } from '../core/analysis/types.ts';
import { StrataError } from '../core/errors.ts';
import type { ImageMeta } from '../core/model.ts';
import { STRATA_VERSION } from '../core/version.ts';

/**
 * With STRATA_TIMINGS=1 in the environment, how long each phase took goes to stderr (the
 * benchmark reads it: the analysis's own time, apart from decoding the layers).
 */
export async function runAnalysis(files: { path: string; base: number }[], tree: Parameters<typeof analyzeImage>[0]): Promise<AnalysisResult> {
  const content = new FileContent(files);
  const t0 = performance.now();
  const marks: string[] = [];
  const pool = new DecodePool(Math.max(1, availableParallelism()));
  try {
    const r = await analyzeImage(tree, content, {
      scanSecrets: (items) => scanOnPool(pool, files, items),
      onPhase: (res) => { marks.push(`${Object.entries(res.phases).filter(([, v]) => v).pop()![0]} ${(performance.now() - t0).toFixed(0)} ms`); },
    });
    if (process.env.STRATA_TIMINGS === '1') process.stderr.write(`strata: timings: analysis ${(performance.now() - t0).toFixed(0)} ms (done after: ${marks.join(', ')})\n`);
    return r;
  } finally {
    content.close();
    await pool.close();
  }
}

/**
 * The content scan on every core: the files (in layer and offset order) cut into runs of about
 * 8 MiB that the workers take in turn from a shared counter — a run of binaries costs little and a
 * run of text much, so equal halves left one core idle — while this thread works out the
 * analysis's other phases (a worker asking this thread for its next run waited for them).
 */
async function scanOnPool(pool: DecodePool, files: { path: string; base: number }[], items: ScanItem[]): Promise<ContentHit[][]> {
  const RUN = 8 << 20;
  const runs: number[] = [];
  let bytes = 0;
  items.forEach((it, i) => {
    if (!runs.length || bytes >= RUN) { runs.push(i); bytes = 0; }
    bytes += it.size;
  });
  const next = new SharedArrayBuffer(4);
  const out: ContentHit[][] = items.map(() => []);
  const workers = Math.min(pool.size, runs.length);
  const columns = scanColumns(items);
  await Promise.all(Array.from({ length: workers }, async () => {
    const r = await pool.scan({ files, items: columns, runs, next });
    for (const [k, hits] of r.found) out[k] = hits;
  }));
  return out;
}

/**
 * Scan items as columns for the workers: one string of the paths (NUL-separated: no path holds a
 * NUL) and three number arrays. Each worker gets a copy: 60k item objects cost 70 ms to clone on
 * the main thread, these 10.
 */
export interface ScanColumns { layer: Int32Array; offset: Float64Array; size: Float64Array; paths: string }

function scanColumns(items: ScanItem[]): ScanColumns {
  const n = items.length;
  const c = { layer: new Int32Array(n), offset: new Float64Array(n), size: new Float64Array(n), paths: items.map((it) => it.path).join('\0') };
  items.forEach((it, i) => { c.layer[i] = it.layer; c.offset[i] = it.offset; c.size[i] = it.size; });
  return c;
}

/** The JSON of `analyze --json`: the result, layers numbered from 1. */
export function analysisJson(meta: ImageMeta, r: AnalysisResult): object {
  return {
    image: { name: meta.image.name, digest: meta.image.digest ?? null, platform: meta.image.platform ?? null, layers: meta.layers.length },
    dive: r.dive, waste: r.waste, sensitive: r.sensitive, packages: r.packages, warnings: r.warnings, distro: r.distro,
  };
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export function bytes(n: number): string {
  let i = 0, v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

const pct = (f: number) => `${(f * 100).toFixed(1)} %`;

/** The readable summary of `analyze`. */
export function analysisText(meta: ImageMeta, r: AnalysisResult, top = 10): string {
  const out: string[] = [];
  const w = r.waste, d = r.dive;
  out.push(`${meta.image.name}: ${meta.layers.length} layer${meta.layers.length === 1 ? '' : 's'}${r.distro ? `, ${r.distro.prettyName ?? r.distro.id}` : ''}`);
  out.push('', 'Size');
  out.push(`  shipped by the layers     ${bytes(w.shippedBytes)}`);
  out.push(`  in the merged filesystem  ${bytes(w.finalBytes)}`);
  out.push(`  wasted                    ${bytes(w.wastedBytes)}   efficiency ${pct(w.efficiency)}`);
  out.push(`  dive's numbers            efficiency ${d.efficiencyScore.toFixed(4)}, inefficient ${bytes(d.inefficientBytes)}, wasted user ${pct(d.wastedUserPercent)}`);
  out.push('', 'Layers (bytes shipped, of which wasted)');
  for (const l of w.layers) {
    const by = meta.layers[l.layer - 1]?.createdBy?.replace(/\s+/g, ' ').slice(0, 70) ?? '';
    out.push(`  ${String(l.layer).padStart(3)}  ${bytes(l.shippedBytes).padStart(10)}  ${bytes(l.wastedBytes).padStart(10)}  ${by}`);
  }
  if (w.files.length) {
    out.push('', `Largest wasted files (${w.files.length} in all)`);
    for (const f of w.files.slice(0, top)) out.push(`  ${bytes(f.size).padStart(10)}  ${f.path}  (layer ${f.layer}, ${f.how} in layer ${f.supersededIn})`);
  }
  const hidden = r.sensitive.filter((s) => !s.visible), visible = r.sensitive.filter((s) => s.visible);
  out.push('', `Sensitive files: ${visible.length} visible, ${hidden.length} hidden in lower layers`);
  for (const s of [...hidden, ...visible].slice(0, top * 2)) {
    out.push(`  ${s.visible ? 'visible' : `HIDDEN (removed in layer ${s.hiddenIn})`}  ${s.path}  layer ${s.layer}: ${s.reason}`);
  }
  out.push('', 'Packages (merged filesystem / every layer)');
  for (const eco of ECOSYSTEMS) {
    const all = r.packages.filter((p) => p.ecosystem === eco);
    if (!all.length) continue;
    const live = all.filter((p) => p.removedIn === null).length;
    const upgraded = all.filter((p) => p.replacedBy !== null).length;
    out.push(`  ${eco.padEnd(7)} ${String(live).padStart(6)} / ${all.length}${all.length > live ? `  (${all.length - live} removed by later layers${upgraded ? `, ${upgraded} of them upgraded in place` : ''})` : ''}`);
  }
  if (!r.packages.length) out.push('  none found');
  if (r.warnings.length) {
    out.push('', 'Warnings');
    for (const x of r.warnings) out.push(`  ${x.path} (layer ${x.layer}): ${x.message}`);
  }
  return out.join('\n') + '\n';
}

export function sbomText(meta: ImageMeta, r: AnalysisResult, format: SbomFormat, scope: SbomScope, created: Date): string {
  return writeSbom(format, { meta, packages: r.packages, scope, distro: r.distro, created, toolVersion: STRATA_VERSION }).text;
}
