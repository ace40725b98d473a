// Builds (once) and reuses the bench image: ≥ 1 GB of this machine's own files in 5 gzip layers,
// with file and directory whiteouts, opaque directories, overwrites, a dir→file and a file→symlink
// replacement, PAX and GNU tar dialects — written as a Docker 25+ style OCI archive.

import { spawnSync } from 'node:child_process';
import {
  existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { writeGenerated } from './gen-data.ts';
import { writeImage, writeLayer, type LayerBlob, type LayerPlan } from './oci.ts';
import { BenchError, removeTree, run, showCmd, which } from './proc.ts';

/** Bump when the recipe changes: a new version is a new cache entry under .bench/. */
export const IMAGE_VERSION = 'v1';
export const REF_NAME = 'bench';

const MiB = 1 << 20;
/** Uncompressed size the image must reach; generated data tops up what the host files lack. */
const TARGET_BYTES = 1200 * MiB;
const MIN_GENERATED = 128 * MiB;

export interface ImageMeta {
  version: string;
  builtAt: string;
  buildSeconds: number;
  archive: string;
  layoutDir: string;
  refName: string;
  layers: LayerBlob[];
  totalUncompressed: number;
  totalCompressed: number;
  archiveSize: number;
  /** what the layers above the base do, for the report */
  edits: Record<string, string | string[]>;
  validatedWith: string[];
}

export interface ImagePaths { dir: string; archive: string; layoutDir: string; meta: string }

export function imagePaths(cacheDir: string): ImagePaths {
  const dir = join(cacheDir, `image-${IMAGE_VERSION}`);
  return { dir, archive: join(dir, 'image.tar'), layoutDir: join(dir, 'layout'), meta: join(dir, 'meta.json') };
}

/** The cached image, if a complete build of this version is there (meta.json is written last). */
export function loadCached(paths: ImagePaths): ImageMeta | undefined {
  if (!existsSync(paths.meta)) return undefined;
  const meta = JSON.parse(readFileSync(paths.meta, 'utf8')) as ImageMeta;
  if (meta.version !== IMAGE_VERSION || !existsSync(paths.archive)) return undefined;
  if (statSync(paths.archive).size !== meta.archiveSize) return undefined;
  const blobsOk = meta.layers.every((l) => existsSync(join(paths.layoutDir, 'blobs', 'sha256', l.digest.slice(7))));
  return blobsOk ? { ...meta, archive: paths.archive, layoutDir: paths.layoutDir } : undefined;
}

// ---- choosing what the upper layers change -------------------------------------------------

interface Walk { bytes: number; entries: number }

function walk(path: string): Walk {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return { bytes: 0, entries: 0 };
  if (!st.isDirectory()) return { bytes: st.isFile() ? st.size : 0, entries: 1 };
  let bytes = 0;
  let entries = 1;
  for (const name of readdirSync(path)) {
    const w = walk(join(path, name));
    bytes += w.bytes;
    entries += w.entries;
  }
  return { bytes, entries };
}

/** Regular, single-link files directly in `dir`, sorted: hardlinked ones are left alone. */
function plainFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => {
      const st = lstatSync(join(dir, n));
      return st.isFile() && st.nlink === 1 && !n.startsWith('.');
    })
    .sort();
}

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => !n.startsWith('.') && lstatSync(join(dir, n)).isDirectory()).sort();
}

function pick(candidates: string[], preferred: string[], exclude: string[]): string {
  const ok = candidates.filter((c) => !exclude.includes(c));
  const found = preferred.find((p) => ok.includes(p)) ?? ok[0];
  if (found === undefined) throw new BenchError(`no candidate left among ${candidates.length} to edit in the bench image`);
  return found;
}

function put(root: string, rel: string, content: string | Buffer = ''): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

interface Plan { layers: LayerPlan[]; edits: Record<string, string | string[]>; generated: () => void }

/** Decide every layer's content from what this machine has; staging files are written by `generated()`. */
function planImage(repoRoot: string, stage: string): Plan {
  const l3 = join(stage, 'l3');
  const l4 = join(stage, 'l4');
  const l5 = join(stage, 'l5');
  const exists = (names: string[]) => names.filter((n) => existsSync(join('/', n)));
  const baseNames = exists(['usr/bin', 'usr/sbin', 'usr/lib/x86_64-linux-gnu', 'usr/lib/aarch64-linux-gnu']);
  const l2Names = exists(['usr/lib/python3.11', 'usr/lib/python3', 'usr/share/perl', 'usr/share/zoneinfo', 'usr/include']);
  const l3Names = exists(['usr/share/i18n']);
  const nodeModules = join(repoRoot, 'node_modules');
  if (!baseNames.includes('usr/bin') || !existsSync(nodeModules)) {
    throw new BenchError('the bench image is built from /usr/bin, /usr/lib/<arch> and ./node_modules — run `npm ci` first');
  }
  const libDir = baseNames.find((n) => n.startsWith('usr/lib/')) ?? 'usr/bin';

  const real = [...baseNames, ...l2Names, ...l3Names].map((n) => walk(join('/', n))).concat(walk(nodeModules));
  const realBytes = real.reduce((s, w) => s + w.bytes, 0);
  const generatedBytes = Math.max(MIN_GENERATED, Math.ceil((TARGET_BYTES - realBytes) / MiB) * MiB);

  // usr/bin: every 25th plain file is deleted (odd picks) or overwritten (even picks) in layer 3
  const binFiles = plainFiles('/usr/bin');
  const picks = binFiles.filter((_, i) => i % 25 === 12);
  const deleted = picks.filter((_, i) => i % 2 === 1);
  const overwritten = picks.filter((_, i) => i % 2 === 0);
  const symlinked = pick(binFiles, [], [...picks, 'bash']);
  const libSubdirs = subdirs(join('/', libDir));
  const opaqueLib = pick(libSubdirs, ['gconv', 'perl5', 'gio'], []);
  const dirToFile = pick(libSubdirs, ['cmake', 'pkgconfig', 'ldscripts'], [opaqueLib]);
  const libFiles = plainFiles(join('/', libDir));
  const largest = libFiles.reduce((a, b) => (lstatSync(join('/', libDir, a)).size >= lstatSync(join('/', libDir, b)).size ? a : b));
  const packages = subdirs(nodeModules).filter((p) => !p.startsWith('@'));
  const deletedPkg = pick(packages, ['typescript'], []);
  const opaquePkg = pick(packages, ['vite'], [deletedPkg]);
  const editedPkg = pick(packages, ['svelte'], [deletedPkg, opaquePkg]);
  const longDir = 'etc/strata-bench/' + Array.from({ length: 6 }, (_, i) => `nested-directory-level-${i}`).join('/');

  const edits = {
    'L3 file whiteouts (usr/bin)': deleted,
    'L3 overwritten (usr/bin)': overwritten,
    'L3 opaque dirs': [`${libDir}/${opaqueLib}`, `app/node_modules/${opaquePkg}`],
    'L3 dir whiteout': `app/node_modules/${deletedPkg}`,
    'L3 overwritten package.json': `app/node_modules/${editedPkg}/package.json`,
    'L4 generated (opt/bench-data)': `${generatedBytes / MiB} MiB`,
    'L4 overwrite of the largest library': `${libDir}/${largest}`,
    'L4 dir replaced by file': `${libDir}/${dirToFile}`,
    'L4 file replaced by symlink': `usr/bin/${symlinked}`,
    'L4 whiteout of an L3 file': `usr/bin/${overwritten[0] ?? ''}`,
    'L5 whiteout of an L4 file': 'opt/bench-data/text.log',
  };

  const generated = (): void => {
    for (const name of deleted) put(l3, `usr/bin/.wh.${name}`);
    for (const name of overwritten) put(l3, `usr/bin/${name}`, `#!/bin/sh\n# ${name}: replaced in layer 3 of the strata bench\nexec true\n`);
    put(l3, `${libDir}/${opaqueLib}/.wh..wh..opq`);
    put(l3, `${libDir}/${opaqueLib}/README.strata-bench`, 'only this file survives the opaque whiteout\n');
    put(l3, `app/node_modules/${opaquePkg}/.wh..wh..opq`);
    put(l3, `app/node_modules/${opaquePkg}/package.json`, JSON.stringify({ name: opaquePkg, version: '0.0.0-bench' }));
    put(l3, `app/node_modules/.wh.${deletedPkg}`);
    const pkgJson = readFileSync(join(nodeModules, editedPkg, 'package.json'), 'utf8');
    put(l3, `app/node_modules/${editedPkg}/package.json`, pkgJson.replace(/"version":\s*"[^"]*"/, '"version": "0.0.0-bench"'));

    mkdirSync(join(l4, 'opt/bench-data'), { recursive: true });
    const random = Math.round((generatedBytes * 0.4) / MiB) * MiB;
    const text = Math.round((generatedBytes * 0.2) / MiB) * MiB;
    writeGenerated(join(l4, 'opt/bench-data/random.bin'), random, 'random', 1);
    writeGenerated(join(l4, 'opt/bench-data/text.log'), text, 'text', 2);
    writeGenerated(join(l4, 'opt/bench-data/mixed.bin'), generatedBytes - random - text, 'mixed', 3);
    mkdirSync(join(l4, libDir), { recursive: true });
    writeGenerated(join(l4, libDir, largest), 24 * MiB, 'mixed', 4);
    put(l4, `${libDir}/.wh.${dirToFile}`);
    put(l4, `${libDir}/${dirToFile}`, 'this directory became a file in layer 4\n');
    mkdirSync(join(l4, 'usr/bin'), { recursive: true });
    symlinkSync('bash', join(l4, 'usr/bin', symlinked));
    if (overwritten[0]) put(l4, `usr/bin/.wh.${overwritten[0]}`);

    put(l5, 'etc/strata-bench-release', `STRATA_BENCH_IMAGE=${IMAGE_VERSION}\n`);
    put(l5, `${longDir}/a-file-whose-full-path-is-longer-than-one-hundred-bytes.txt`, 'GNU long name\n');
    put(l5, 'etc/strata-bench/ünïcödé-名前.txt', 'non-ASCII name\n');
    put(l5, 'opt/bench-data/.wh.text.log');
  };

  const layers: LayerPlan[] = [
    { createdBy: `COPY ${baseNames.map((n) => `/${n}`).join(' ')} (host files)`, format: 'pax', sources: [{ dir: '/', names: baseNames }] },
    {
      createdBy: `COPY ${l2Names.map((n) => `/${n}`).join(' ')} node_modules → /app/node_modules`,
      format: 'gnu',
      sources: [{ dir: '/', names: l2Names }, { dir: repoRoot, names: ['node_modules'] }],
      transforms: ['s,^node_modules,app/node_modules,S'],
    },
    {
      createdBy: 'RUN delete and overwrite files, opaque dirs, remove a package; COPY /usr/share/i18n',
      format: 'pax',
      sources: [...(l3Names.length ? [{ dir: '/', names: l3Names }] : []), { dir: l3, names: ['app', 'usr'] }],
    },
    { createdBy: 'RUN generate /opt/bench-data; replace a library, a dir and a binary', format: 'pax', sources: [{ dir: l4, names: ['opt', 'usr'] }] },
    { createdBy: 'RUN small config layer, long and non-ASCII names, delete text.log', format: 'gnu', sources: [{ dir: l5, names: ['etc', 'opt'] }] },
  ];
  return { layers, edits, generated };
}

// ---- building ---------------------------------------------------------------------------------

/** Run async jobs with at most `limit` at a time, results in input order. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

/** Check the result with the tools that know the format, where installed. */
function validate(paths: { archive: string; layoutDir: string }, layers: LayerBlob[], log: (s: string) => void): string[] {
  const done: string[] = [];
  if (which('skopeo')) {
    const info = JSON.parse(run('skopeo', ['inspect', `oci-archive:${paths.archive}`])) as { Layers?: string[] };
    if (info.Layers?.length !== layers.length) {
      throw new BenchError(`skopeo sees ${info.Layers?.length} layers in ${paths.archive}, expected ${layers.length}`);
    }
    done.push('skopeo inspect oci-archive:');
  }
  if (which('umoci')) {
    run('umoci', ['stat', '--image', `${paths.layoutDir}:${REF_NAME}`, '--json']);
    done.push('umoci stat');
  }
  // diff_ids are hashed in-stream while building; re-derive them the slow, obvious way once.
  for (const l of layers) {
    const blob = join(paths.layoutDir, 'blobs', 'sha256', l.digest.slice(7));
    const r = spawnSync('sh', ['-c', 'gzip -dc "$1" | sha256sum', 'sh', blob], { encoding: 'utf8' });
    const hex = r.stdout.split(' ')[0];
    if (r.status !== 0 || `sha256:${hex}` !== l.diffId) {
      throw new BenchError(`diff_id check failed for ${l.digest}: gzip -dc | sha256sum gave ${hex}, config says ${l.diffId}`);
    }
  }
  done.push('gzip -dc | sha256sum == diff_ids');
  log(`  validated with: ${done.join(', ')}`);
  return done;
}

export async function buildImage(repoRoot: string, paths: ImagePaths, log: (s: string) => void): Promise<ImageMeta> {
  const started = Date.now();
  const partial = `${paths.dir}.partial`;
  removeTree(partial);
  const stage = join(partial, 'stage');
  const layoutDir = join(partial, 'layout');
  mkdirSync(layoutDir, { recursive: true });

  log('  planning layers from this machine’s files…');
  const plan = planImage(repoRoot, stage);
  log('  writing generated files…');
  plan.generated();

  log(`  writing ${plan.layers.length} layers (tar | gzip -6, 2 at a time)…`);
  const layers = await pool(plan.layers.map((lp, i) => async () => {
    const t = Date.now();
    const blob = await writeLayer(layoutDir, lp, `layer-${i + 1}`);
    log(`    layer ${i + 1}: ${(blob.uncompressedSize / MiB).toFixed(0)} MiB → ${(blob.size / MiB).toFixed(0)} MiB gzip in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return blob;
  }), 2);
  writeImage(layoutDir, layers, { refName: REF_NAME, repoTag: `strata-bench:${IMAGE_VERSION}` });

  const archive = join(partial, 'image.tar');
  const tarArgs = ['-cf', archive, '--format=ustar', '--numeric-owner', '--owner=0', '--group=0', '--sort=name',
    '-C', layoutDir, 'blobs', 'index.json', 'manifest.json', 'oci-layout'];
  log(`  ${showCmd('tar', tarArgs.map((a) => a.replace(partial, '…')))}`);
  run('tar', tarArgs);
  removeTree(stage);

  const validatedWith = validate({ archive, layoutDir }, layers, log);
  removeTree(paths.dir);
  renameSync(partial, paths.dir);
  const meta: ImageMeta = {
    version: IMAGE_VERSION,
    builtAt: new Date().toISOString(),
    buildSeconds: (Date.now() - started) / 1000,
    archive: paths.archive,
    layoutDir: paths.layoutDir,
    refName: REF_NAME,
    layers,
    totalUncompressed: layers.reduce((s, l) => s + l.uncompressedSize, 0),
    totalCompressed: layers.reduce((s, l) => s + l.size, 0),
    archiveSize: statSync(paths.archive).size,
    edits: plan.edits,
    validatedWith,
  };
  writeFileSync(paths.meta, JSON.stringify(meta, null, 2));
  return meta;
}
