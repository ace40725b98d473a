// `strata diff A B`: what changed from image A (as of a layer) to image B — files, sizes, packages,
// config and layers — as lines or one JSON object. Exit status 0 whether or not they differ.
import { basename } from 'node:path';
import type { Archive, ImageSelector, ResolvedImage } from '../core/archive/open.ts';
import type { AnalysisResult } from '../core/analysis/types.ts';
import { compareImages, type CompareInput } from '../core/compare/index.ts';
import type { Comparison, FileState } from '../core/compare/types.ts';
import { StrataError, toErrorInfo } from '../core/errors.ts';
import type { ImportResult } from '../core/import.ts';
import { FileTree } from '../core/tree/file-tree.ts';
import { bytes, runAnalysis } from './analyze.ts';
import { FileContent } from './file-content.ts';
import { nodeSha256, type NodeEnv } from './node-env.ts';

export interface DiffArgs {
  a: string; b: string;
  selA: ImageSelector; selB: ImageSelector;
  /** 0-based; the last layer when absent */
  layerA?: number; layerB?: number;
  json: boolean; verify: boolean; jobs?: number;
}

type Loaded = ImportResult & { files: { path: string; base: number }[] };

/** What main.ts lends: opening and decoding archives as every command does, and its usage error. */
export interface DiffDeps {
  open(path: string, env: NodeEnv): Promise<Archive>;
  load(path: string, archive: Archive, img: ResolvedImage, env: NodeEnv, verify: boolean, jobs?: number): Promise<Loaded>;
  usage(message: string): Error;
}

interface Side { path: string; res: Loaded; tree: FileTree; analysis: AnalysisResult; id: string }

export async function diff(args: DiffArgs, env: NodeEnv, deps: DiffDeps): Promise<void> {
  const a = await load('a', args.a, args.selA, env, deps, args);
  const same = args.a === args.b && sameSelector(args.selA, args.selB);
  const b = same ? a : await load('b', args.b, args.selB, env, deps, args);
  const input = (s: Side, layer: number | undefined, flag: string): CompareInput => ({
    meta: s.res.meta, tree: s.tree, id: s.id, layer: checkLayer(layer, s.res.meta.layers.length, flag, deps),
  });
  const ia = input(a, args.layerA, '--layer-a'), ib = input(b, args.layerB, '--layer-b');
  const ca = new FileContent(a.res.files), cb = b === a ? ca : new FileContent(b.res.files);
  try {
    const cmp = await compareImages(ia, ib, {
      read: (s, layer, offset, length) => (s === 'a' ? ca : cb).read(layer, offset, length)
        .catch((e: unknown) => { throw named(e, s === 'a' ? a.path : b.path); }),
      sha256: nodeSha256,
    }, { packages: { a: { records: a.analysis.packages }, b: { records: b.analysis.packages } } });
    process.stdout.write(args.json ? JSON.stringify(diffJson(cmp), null, 2) + '\n' : diffText(cmp));
  } finally {
    ca.close();
    cb.close();
  }
}

async function load(side: 'a' | 'b', path: string, sel: ImageSelector, env: NodeEnv, deps: DiffDeps, args: DiffArgs): Promise<Side> {
  try {
    const archive = await deps.open(path, env);
    const img = await archive.resolve(sel);
    const res = await deps.load(path, archive, img, env, args.verify, args.jobs);
    const analysis = await runAnalysis(res.files, res.tree);
    return { path, res, tree: new FileTree(res.tree), analysis, id: `${path}#${img.meta.image.index}` };
  } catch (e) {
    // the core's advice names --image; here each side has its own option
    const flag = side === 'a' ? '--image-a' : '--image-b';
    throw named(e instanceof StrataError && e.code === 'AMBIGUOUS_IMAGE' ? new StrataError(e.code, e.message.replace(/--image\b/g, flag), { cause: e }) : e, path);
  }
}

/** The error with the file it came from first, as every other command's message starts. */
function named(e: unknown, path: string): unknown {
  if (!(e instanceof StrataError)) return e;
  const name = path.startsWith('docker://') ? path.slice(9) : basename(path);
  if (e.message.startsWith(name) || e.message.startsWith(path)) return e;
  return new StrataError(e.code, `${name}: ${toErrorInfo(e).message}`, { cause: e });
}

const sameSelector = (x: ImageSelector, y: ImageSelector) => String(x.image ?? '') === String(y.image ?? '') && (x.platform ?? '') === (y.platform ?? '');

function checkLayer(layer: number | undefined, n: number, flag: string, deps: DiffDeps): number {
  if (layer === undefined) return n - 1;
  if (layer >= n) throw deps.usage(`${flag} ${layer + 1}: the image has ${n} layer${n === 1 ? '' : 's'}`);
  return layer;
}

// ---- output ----

const octal = (m: number) => m.toString(8).padStart(4, '0');

function stateJson(s: FileState | null): object | null {
  if (!s) return null;
  return {
    type: s.type, mode: octal(s.mode), uid: s.uid, gid: s.gid, size: s.size, mtime: s.mtime,
    ...(s.sha256 ? { sha256: s.sha256 } : {}), ...(s.link !== undefined ? { link: s.link } : {}),
    ...(s.dev ? { device: `${s.dev[0]},${s.dev[1]}` } : {}), ...(s.xattrs ? { xattrs: s.xattrs } : {}),
  };
}

/** The JSON of `diff --json`: the issue's shape, plus both sides' states and the details. */
export function diffJson(c: Comparison): object {
  return {
    a: c.a, b: c.b,
    files: c.files.map((f) => ({ path: f.path, change: f.change, what: f.what, a: stateJson(f.a), b: stateJson(f.b) })),
    counts: { added: c.counts.added, modified: c.counts.modified, deleted: c.counts.deleted },
    packages: c.packages, packagesNote: c.packagesNote,
    config: c.config,
    sharedLayers: c.layers.shared, layers: c.layers,
    sizeA: c.sizeA, sizeB: c.sizeB, topLevel: c.topLevel,
    hashed: { files: c.hashing.files, bytes: c.hashing.bytes },
  };
}

const CHANGE_WORD = { added: 'Added', modified: 'Modified', deleted: 'Deleted' } as const;

function delta(a: number, b: number): string {
  if (a === b) return '±0 B';
  return `${b > a ? '+' : '-'}${bytes(Math.abs(b - a))}`;
}

const quote = (s: string | null) => (s === null ? '(none)' : JSON.stringify(s));

export function diffText(c: Comparison): string {
  const out: string[] = [];
  for (const f of c.files) out.push(`${CHANGE_WORD[f.change]}: ${f.path}${f.what.length ? ` (${f.what.join(', ')})` : ''}`);
  if (out.length) out.push('');
  const n = c.counts;
  out.push(`Files: ${n.added} added, ${n.modified} modified, ${n.deleted} deleted` +
    (c.hashing.files ? ` (${c.hashing.files} file version${c.hashing.files === 1 ? '' : 's'} of equal size hashed, ${bytes(c.hashing.bytes)})` : ''));
  out.push(`Size: ${bytes(c.sizeA)} → ${bytes(c.sizeB)} (${delta(c.sizeA, c.sizeB)})`);
  for (const r of c.topLevel) if (r.a !== r.b) out.push(`  ${r.path.padEnd(16)} ${bytes(r.a).padStart(10)} → ${bytes(r.b).padStart(10)}  (${delta(r.a, r.b)})`);
  if (c.packages === null) out.push(c.packagesNote ?? 'Packages: not compared');
  else {
    const k = (x: string) => c.packages!.filter((p) => p.change === x).length;
    out.push(`Packages: ${k('added')} added, ${k('removed')} removed, ${k('changed')} changed`);
    for (const p of c.packages) {
      const v = p.change === 'changed' ? `${p.from} → ${p.to}` : p.change === 'added' ? `added ${p.to}` : `removed ${p.from}`;
      out.push(`  ${p.ecosystem.padEnd(6)} ${p.name}${p.arch ? `:${p.arch}` : ''}  ${v}`);
    }
  }
  out.push(`Config: ${c.config.length ? `${c.config.length} change${c.config.length === 1 ? '' : 's'}` : 'no changes'}`);
  for (const x of c.config) {
    const what = x.key !== undefined ? `${x.field} ${x.key}` : x.field;
    if (x.field === 'history') { out.push(`  history: ${x.a} → ${x.b} entries`); continue; }
    out.push(`  ${what}: ${x.change === 'added' ? `added ${quote(x.b)}` : x.change === 'removed' ? `removed ${quote(x.a)}` : `${quote(x.a)} → ${quote(x.b)}`}`);
  }
  const l = c.layers;
  out.push(`Layers: A ${c.a.name} as of layer ${c.a.layer} of ${c.a.layerCount}, B ${c.b.name} as of layer ${c.b.layer} of ${c.b.layerCount}; ` +
    `${l.shared} leading layer${l.shared === 1 ? '' : 's'} shared (same diff_id); ` +
    (l.newInB.length ? `new in B: ${l.newInB.join(', ')}` : 'none new in B'));
  return out.join('\n') + '\n';
}
