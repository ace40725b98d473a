// Builds (once) and reuses the real-content bench images of issue 12: trees of this machine layered
// by umoci (Go; its layers gzip'd by klauspost/pgzip) and exported by skopeo, the same layer tars
// re-gzip'd by `gzip -n -6`, and a gzip-wrapped plain rootfs (`docker export … | gzip -1` style).

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync, createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync,
  symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeGenerated } from './gen-data.ts';
import { MEDIA, recompressLayer, writeJsonBlob } from './oci.ts';
import { BenchError, removeTree, run, showCmd, tail, versionOf, which } from './proc.ts';

/** Bump when a recipe changes: a new version is a new cache entry under .bench/. */
export const REAL_VERSION = 'v1';
export type Family = 'text' | 'libs';

const MiB = 1 << 20;

export interface BenchLayer {
  /** the blob the native baselines read (gzip or plain tar) */
  file: string;
  compression: 'gzip' | 'none';
  size: number;
  uncompressedSize: number;
  digest?: string;
  diffId?: string;
  createdBy: string;
  /** tar entries (`tar -t` lines), whiteouts included */
  entries: number;
}

export interface Variant {
  archive: string;
  archiveSize: number;
  /** outer archive format, e.g. "OCI layout (skopeo copy oci-archive:)" */
  format: string;
  /** who wrote the layer blobs */
  writer: string;
  compression: string;
  /** an OCI image layout of the same image, for `umoci unpack` */
  layoutDir?: string;
  ref?: string;
  layers: BenchLayer[];
}

export interface FamilyMeta {
  version: string;
  family: Family;
  builtAt: string;
  buildSeconds: number;
  trees: { from: string; to: string; bytes: number; entries: number }[];
  edits: Record<string, string | string[]>;
  variants: { go: Variant; gz: Variant; docker: Variant };
  validatedWith: string[];
}

export interface WrappedMeta {
  version: string;
  builtAt: string;
  buildSeconds: number;
  archive: string;
  archiveSize: number;
  uncompressedSize: number;
  entries: number;
  contents: string[];
}

// ---- small helpers ----------------------------------------------------------------------------

/** `du`-style apparent bytes and entry count of a tree (symlinks not followed). */
function treeSize(path: string): { bytes: number; entries: number } {
  const out = run('sh', ['-c', 'du -sb "$1" | cut -f1; find "$1" | wc -l', 'sh', path]).trim().split('\n');
  return { bytes: Number(out[0]), entries: Number(out[1]) };
}

/** Regular files under `dir`, relative, sorted (C locale order, so the picks are the same every build). */
function filesUnder(dir: string, ext?: string): string[] {
  const args = ['-c', 'cd "$1" && find . -type f -links 1 | LC_ALL=C sort', 'sh', dir];
  return run('sh', args).split('\n').filter(Boolean).map((p) => p.slice(2)).filter((p) => !ext || p.endsWith(ext));
}

/** Count, hash and list a layer blob in one pass: diff_id, tar bytes, entries (`tar -t` lines). */
export async function inspectLayer(file: string, compression: 'gzip' | 'none'): Promise<{ diffId: string; bytes: number; entries: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tar = spawn('tar', ['-t'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let lines = 0;
  let err = '';
  tar.stdout.on('data', (c: Buffer) => { for (const b of c) if (b === 10) lines++; });
  tar.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => tar.once('close', r));
  const hashing = new Writable({
    write(chunk: Buffer, _e, done) {
      hash.update(chunk);
      bytes += chunk.length;
      if (tar.stdin.write(chunk)) done();
      else tar.stdin.once('drain', () => done());
    },
    final(done) { tar.stdin.end(); done(); },
  });
  if (compression === 'gzip') {
    const gz = spawn('gzip', ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    gz.stderr.on('data', (c: Buffer) => (err += c.toString()));
    await pipeline(gz.stdout, hashing);
  } else {
    await pipeline(createReadStream(file), hashing);
  }
  if ((await exited) !== 0) throw new BenchError(`tar -t of ${file} failed\n${tail(err)}`);
  return { diffId: `sha256:${hash.digest('hex')}`, bytes, entries: lines };
}

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

interface OciManifest { mediaType?: string; config: { digest: string; size: number; mediaType: string }; layers: { mediaType: string; digest: string; size: number }[] }
const blobFile = (layout: string, digest: string): string => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));

function readManifest(layout: string, ref: string): { digest: string; manifest: OciManifest } {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const m = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!m) throw new BenchError(`${layout} has no manifest tagged ${ref}`);
  return { digest: m.digest, manifest: JSON.parse(readFileSync(blobFile(layout, m.digest), 'utf8')) as OciManifest };
}

// ---- what goes into each family ---------------------------------------------------------------

interface Step {
  createdBy: string;
  copies: { from: string; to: string }[];
  /** edits of the bundle's rootfs before this step's repack: deletions become whiteouts */
  edit?: (rootfs: string) => Record<string, string | string[]>;
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/** The Python standard library: Debian's, else the newest pyenv one. */
function pythonStdlib(): { from: string; to: string } {
  const debian = readdirSync('/usr/lib').filter((n) => /^python3\.\d+$/.test(n)).sort((a, b) => Number(b.slice(8)) - Number(a.slice(8)));
  if (debian[0]) return { from: `/usr/lib/${debian[0]}`, to: `usr/lib/${debian[0]}` };
  const py = join(homedir(), '.pyenv', 'versions');
  const v = existsSync(py) ? readdirSync(py).filter((n) => /^3\.\d+/.test(n)).sort().pop() : undefined;
  const lib = v ? readdirSync(join(py, v, 'lib')).find((n) => n.startsWith('python3')) : undefined;
  if (!v || !lib) throw new BenchError('no Python standard library on this machine (/usr/lib/python3.* or ~/.pyenv): apt-get install -y python3');
  return { from: join(py, v, 'lib', lib), to: `usr/lib/${lib}` };
}

/** The largest site-packages of the machine (pyenv's are where the pip installs are). */
function sitePackages(): { from: string; to: string } | undefined {
  const found: string[] = [];
  const py = join(homedir(), '.pyenv', 'versions');
  if (existsSync(py)) {
    for (const v of readdirSync(py)) {
      const lib = join(py, v, 'lib');
      if (!existsSync(lib)) continue;
      for (const n of readdirSync(lib)) if (n.startsWith('python3')) found.push(join(lib, n, 'site-packages'));
    }
  }
  found.push('/usr/lib/python3/dist-packages');
  const sized = found.filter((p) => existsSync(p)).map((p) => ({ p, ...treeSize(p) })).sort((a, b) => b.bytes - a.bytes);
  const best = sized[0];
  if (!best) return undefined;
  const ver = /python3\.\d+/.exec(best.p)?.[0] ?? 'python3';
  return { from: best.p, to: `usr/local/lib/${ver}/site-packages` };
}

function put(root: string, rel: string, content: string | Buffer): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  rmSync(file, { force: true }); // a new inode: never write through into a copied file's storage
  writeFileSync(file, content);
}

/** Every `n`th of a sorted list, starting at `offset` (a spread of picks, the same every build). */
const every = <T>(xs: T[], n: number, offset = 0): T[] => xs.filter((_, i) => i % n === offset % n);

/** The first subdirectory of `dir` with between `min` and `max` entries below it. */
function smallSubdir(dir: string, min: number, max: number, exclude: string[] = []): string {
  const subs = readdirSync(dir).filter((n) => !exclude.includes(n) && lstatSync(join(dir, n)).isDirectory()).sort();
  const hit = subs.find((n) => {
    const c = Number(run('sh', ['-c', 'find "$1" | wc -l', 'sh', join(dir, n)]).trim());
    return c >= min && c <= max;
  });
  if (!hit) throw new BenchError(`no subdirectory of ${dir} with ${min}–${max} entries to delete`);
  return hit;
}

/**
 * The edits of the last layer: files of lower layers deleted (umoci writes `.wh.` entries), a whole
 * directory deleted (one `.wh.` for the directory), files rewritten with new content, a new file.
 */
function lastLayerEdits(deleteFrom: string, dirFrom: string, rewriteIn: string, rewriteExt: string, picks: { del: number; rewrite: number }) {
  return (rootfs: string): Record<string, string | string[]> => {
    const del = every(filesUnder(join(rootfs, deleteFrom)), picks.del, 7).map((p) => `${deleteFrom}/${p}`);
    for (const p of del) rmSync(join(rootfs, p));
    const dir = `${dirFrom}/${smallSubdir(join(rootfs, dirFrom), 20, 2000)}`;
    rmSync(join(rootfs, dir), { recursive: true });
    const rewritten = every(filesUnder(join(rootfs, rewriteIn), rewriteExt), picks.rewrite, 3).map((p) => `${rewriteIn}/${p}`);
    for (const p of rewritten) {
      const old = readFileSync(join(rootfs, p));
      put(rootfs, p, Buffer.concat([old, Buffer.from(`\n# changed in the last layer of the strata bench image\n`)]));
    }
    put(rootfs, 'etc/strata-bench-release', `STRATA_BENCH_REAL=${REAL_VERSION}\n`);
    return {
      'file whiteouts': del,
      'directory whiteout': dir,
      'rewritten (whole file again in the last layer)': rewritten,
      'new file': 'etc/strata-bench-release',
    };
  };
}

function plan(family: Family): Step[] {
  const include = { from: '/usr/include', to: 'usr/include' };
  const doc = { from: '/usr/share/doc', to: 'usr/share/doc' };
  const stdlib = pythonStdlib();
  for (const t of [include, doc]) if (!existsSync(t.from)) throw new BenchError(`${t.from} is missing: the ${family} image is built from it`);
  if (family === 'text') {
    return [
      { createdBy: `COPY ${include.from} /${include.to}`, copies: [include] },
      { createdBy: `COPY ${stdlib.from} /${stdlib.to}`, copies: [stdlib] },
      {
        createdBy: `COPY ${doc.from} /${doc.to}; RUN rm (files of usr/include, a usr/include dir), rewrite .py files`,
        copies: [doc],
        edit: lastLayerEdits(include.to, include.to, stdlib.to, '.py', { del: 600, rewrite: 150 }),
      },
    ];
  }
  const libDir = firstExisting(['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu']);
  if (!libDir) throw new BenchError('no /usr/lib/<arch>-linux-gnu: the libs image is built from it');
  const libs = { from: libDir, to: libDir.slice(1) };
  const site = sitePackages();
  const third = site ? [site] : [{ from: '/usr/share', to: 'usr/share' }];
  return [
    { createdBy: `COPY ${libs.from} /${libs.to}`, copies: [libs] },
    { createdBy: `COPY ${include.from} ${stdlib.from} (the text image's first two layers)`, copies: [include, stdlib] },
    { createdBy: `COPY ${third.map((t) => `${t.from} /${t.to}`).join(', ')}`, copies: third },
    {
      createdBy: `COPY ${doc.from} /${doc.to}; RUN rm (files of ${libs.to}, a site-packages dir), rewrite .py files`,
      copies: site ? [doc] : [],
      edit: lastLayerEdits(libs.to, site ? site.to : include.to, stdlib.to, '.py', { del: 300, rewrite: 150 }),
    },
  ];
}

// ---- paths and the cache ----------------------------------------------------------------------

export function familyDir(cache: string, family: Family): string {
  return join(cache, `${family}-${REAL_VERSION}`);
}

export function wrappedDir(cache: string): string {
  return join(cache, `wrapped-${REAL_VERSION}`);
}

/** Stored paths are relative to the image's directory; give them back absolute. */
function absolute(dir: string, v: Variant): Variant {
  return {
    ...v,
    archive: join(dir, v.archive),
    layoutDir: v.layoutDir ? join(dir, v.layoutDir) : undefined,
    layers: v.layers.map((l) => ({ ...l, file: join(dir, l.file) })),
  };
}

function variantOk(v: Variant): boolean {
  return existsSync(v.archive) && statSync(v.archive).size === v.archiveSize && v.layers.every((l) => existsSync(l.file));
}

export function loadFamily(cache: string, family: Family): FamilyMeta | undefined {
  const dir = familyDir(cache, family);
  const file = join(dir, 'meta.json');
  if (!existsSync(file)) return undefined;
  const meta = JSON.parse(readFileSync(file, 'utf8')) as FamilyMeta;
  if (meta.version !== REAL_VERSION) return undefined;
  const variants = { go: absolute(dir, meta.variants.go), gz: absolute(dir, meta.variants.gz), docker: absolute(dir, meta.variants.docker) };
  return Object.values(variants).every(variantOk) ? { ...meta, variants } : undefined;
}

export function loadWrapped(cache: string): WrappedMeta | undefined {
  const dir = wrappedDir(cache);
  const file = join(dir, 'meta.json');
  if (!existsSync(file)) return undefined;
  const meta = JSON.parse(readFileSync(file, 'utf8')) as WrappedMeta;
  const archive = join(dir, meta.archive);
  if (meta.version !== REAL_VERSION || !existsSync(archive) || statSync(archive).size !== meta.archiveSize) return undefined;
  return { ...meta, archive };
}

// ---- building a family ------------------------------------------------------------------------

function requireTools(tools: string[], what: string): void {
  const missing = tools.filter((t) => !which(t));
  if (missing.length) throw new BenchError(`${what} needs ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`);
}

function relVariant(dir: string, v: Variant): Variant {
  return {
    ...v,
    archive: relative(dir, v.archive),
    layoutDir: v.layoutDir ? relative(dir, v.layoutDir) : undefined,
    layers: v.layers.map((l) => ({ ...l, file: relative(dir, l.file) })),
  };
}

/**
 * umoci init/new/unpack, then per layer: copy trees into the bundle's rootfs (and edit it), `umoci
 * repack --refresh-bundle` — umoci diffs the rootfs against its mtree, so deletions become whiteouts.
 * Then skopeo exports the layout as oci-archive and docker-archive, and the layers are re-gzip'd.
 */
export async function buildFamily(cache: string, family: Family, log: (s: string) => void): Promise<FamilyMeta> {
  requireTools(['umoci', 'skopeo', 'gzip', 'tar', 'cp'], `the ${family} bench image`);
  const started = Date.now();
  const dir = familyDir(cache, family);
  const partial = `${dir}.partial`;
  removeTree(partial);
  const layout = join(partial, 'go-layout');
  const bundle = join(partial, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  const ref = `${family}-${REAL_VERSION}`;
  const image = `${layout}:${ref}`;
  mkdirSync(partial, { recursive: true });
  const steps = plan(family);
  const show = (cmd: string, args: string[]) => log(`    ${showCmd(cmd, args.map((a) => a.replace(partial, '…')))}`);
  const umoci = (args: string[]): string => { show('umoci', args); return run('umoci', args); };

  umoci(['init', '--layout', layout]);
  umoci(['new', '--image', image]);
  umoci(['unpack', ...(process.getuid?.() === 0 ? [] : ['--rootless']), '--image', image, bundle]);
  const trees: FamilyMeta['trees'] = [];
  let edits: FamilyMeta['edits'] = {};
  for (const [i, step] of steps.entries()) {
    const t = Date.now();
    for (const c of step.copies) {
      const size = treeSize(c.from);
      trees.push({ ...c, ...size });
      log(`  L${i + 1}: cp -a ${c.from} → /${c.to} (${(size.bytes / MiB).toFixed(0)} MiB, ${size.entries} entries)`);
      mkdirSync(dirname(join(rootfs, c.to)), { recursive: true });
      run('cp', ['-a', c.from, join(rootfs, c.to)]);
    }
    if (step.edit) edits = step.edit(rootfs);
    umoci(['repack', '--refresh-bundle', '--history.created_by', step.createdBy, '--image', image, bundle]);
    log(`    layer ${i + 1} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  removeTree(bundle);
  umoci(['gc', '--layout', layout]);

  const { digest: goManifestDigest, manifest } = readManifest(layout, ref);
  const config = JSON.parse(readFileSync(blobFile(layout, manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] }; history?: { created_by?: string; empty_layer?: boolean }[] };
  const createdBy = (config.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by ?? '');
  const diffIds = config.rootfs.diff_ids;
  log(`  checking umoci's ${manifest.layers.length} layers (gzip -dc | sha256sum, tar -t)…`);
  const goLayers: BenchLayer[] = await pool(manifest.layers.map((l, i) => async () => {
    const file = blobFile(layout, l.digest);
    const seen = await inspectLayer(file, 'gzip');
    if (seen.diffId !== diffIds[i]) throw new BenchError(`umoci layer ${i + 1}: inflates to ${seen.diffId}, its config says ${diffIds[i]}`);
    return { file, compression: 'gzip' as const, size: l.size, uncompressedSize: seen.bytes, digest: l.digest, diffId: seen.diffId, createdBy: createdBy[i] ?? '', entries: seen.entries };
  }), 2);

  // the same tar bytes, gzip -n -6: same config (diff_ids), new manifest
  const gzLayout = join(partial, 'gz-layout');
  log(`  re-gzip'ing the ${goLayers.length} layers with gzip -n -6 (2 at a time)…`);
  const gzLayers: BenchLayer[] = await pool(goLayers.map((l, i) => async () => {
    const r = await recompressLayer(l.file, gzLayout, `layer-${i + 1}`, 6);
    if (r.diffId !== l.diffId) throw new BenchError(`re-gzip of layer ${i + 1} changed its tar: ${r.diffId} ≠ ${l.diffId}`);
    return { ...l, file: blobFile(gzLayout, r.digest), size: r.size, digest: r.digest };
  }), 2);
  mkdirSync(join(gzLayout, 'blobs', 'sha256'), { recursive: true });
  copyFileSync(blobFile(layout, manifest.config.digest), blobFile(gzLayout, manifest.config.digest));
  const gzManifest = writeJsonBlob(gzLayout, manifest.mediaType ?? MEDIA.manifest, {
    ...manifest,
    layers: manifest.layers.map((l, i) => ({ ...l, digest: gzLayers[i]!.digest, size: gzLayers[i]!.size })),
  });
  writeFileSync(join(gzLayout, 'index.json'), JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.index,
    manifests: [{ ...gzManifest, annotations: { 'org.opencontainers.image.ref.name': ref } }],
  }));
  writeFileSync(join(gzLayout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const skopeo = (args: string[]): string => { show('skopeo', args); return run('skopeo', args); };
  const goArchive = join(partial, 'go.tar');
  const gzArchive = join(partial, 'gz.tar');
  const dockerArchive = join(partial, 'docker.tar');
  skopeo(['copy', '-q', `oci:${layout}:${ref}`, `oci-archive:${goArchive}:${ref}`]);
  skopeo(['copy', '-q', `oci:${gzLayout}:${ref}`, `oci-archive:${gzArchive}:${ref}`]);
  skopeo(['copy', '-q', `oci:${layout}:${ref}`, `docker-archive:${dockerArchive}:strata-bench/${family}:${REAL_VERSION}`]);

  // skopeo's docker-archive holds the layers uncompressed: unpack them for the tar -xf baseline
  const dockerLayers = join(partial, 'docker-layers');
  mkdirSync(dockerLayers);
  run('tar', ['-xf', dockerArchive, '-C', dockerLayers]);
  const dm = JSON.parse(readFileSync(join(dockerLayers, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
  const dockerLayerFiles = dm[0]!.Layers.map((n) => join(dockerLayers, n));
  for (const n of readdirSync(dockerLayers)) if (!n.endsWith('.tar')) rmSync(join(dockerLayers, n), { recursive: true });

  const goW = `umoci ${(versionOf('umoci') ?? '').replace(/^umoci version /, '')} repack (Go, klauspost/pgzip)`;
  const skopeoV = (versionOf('skopeo') ?? 'skopeo').replace(/ version /, ' ');
  const variants = {
    go: {
      archive: goArchive, archiveSize: statSync(goArchive).size, format: `OCI layout (${skopeoV} copy … oci-archive:)`,
      writer: goW, compression: 'gzip, Go (klauspost/pgzip, umoci\'s default level)', layoutDir: layout, ref, layers: goLayers,
    },
    gz: {
      archive: gzArchive, archiveSize: statSync(gzArchive).size, format: `OCI layout (${skopeoV} copy … oci-archive:)`,
      writer: `${goW}, layers re-gzip'd`, compression: `gzip -n -6 (${versionOf('gzip') ?? 'gzip'})`, layoutDir: gzLayout, ref, layers: gzLayers,
    },
    docker: {
      archive: dockerArchive, archiveSize: statSync(dockerArchive).size, format: `docker-archive (${skopeoV} copy … docker-archive:)`,
      writer: `${goW}; skopeo wrote the layers out uncompressed`, compression: 'none (docker save layout)',
      layers: goLayers.map((l, i) => ({ ...l, file: dockerLayerFiles[i]!, compression: 'none' as const, size: l.uncompressedSize })),
    },
  } satisfies FamilyMeta['variants'];

  const validatedWith = await validateFamily(variants, goManifestDigest, log);
  const meta: FamilyMeta = {
    version: REAL_VERSION, family, builtAt: new Date().toISOString(), buildSeconds: 0, trees, edits,
    variants: { go: relVariant(partial, variants.go), gz: relVariant(partial, variants.gz), docker: relVariant(partial, variants.docker) },
    validatedWith,
  };
  removeTree(dir);
  renameSync(partial, dir);
  meta.buildSeconds = (Date.now() - started) / 1000;
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
  const loaded = loadFamily(cache, family);
  if (!loaded) throw new BenchError(`the ${family} image in ${dir} did not load back after building`);
  return loaded;
}

/** skopeo and umoci read every archive; the docker-archive's layer tars hash to the diff_ids. */
async function validateFamily(v: FamilyMeta['variants'], goManifestDigest: string, log: (s: string) => void): Promise<string[]> {
  const done: string[] = [];
  for (const [name, x] of Object.entries(v)) {
    const transport = name === 'docker' ? 'docker-archive' : 'oci-archive';
    const info = JSON.parse(run('skopeo', ['inspect', `${transport}:${x.archive}`])) as { Layers?: string[] };
    const want = name === 'docker' ? x.layers.map((l) => l.diffId) : x.layers.map((l) => l.digest);
    if (JSON.stringify(info.Layers) !== JSON.stringify(want)) {
      throw new BenchError(`skopeo inspect ${transport}:${x.archive} lists layers ${JSON.stringify(info.Layers)}, expected ${JSON.stringify(want)}`);
    }
    if (x.layoutDir) run('umoci', ['stat', '--image', `${x.layoutDir}:${x.ref}`, '--json']);
  }
  done.push('skopeo inspect (oci-archive ×2, docker-archive): layer digests as written', 'umoci stat (both layouts)');
  const index = JSON.parse(run('tar', ['-xOf', v.go.archive, 'index.json'])) as { manifests: { digest: string }[] };
  if (index.manifests[0]?.digest !== goManifestDigest) throw new BenchError(`skopeo rewrote umoci's manifest in ${v.go.archive}`);
  done.push('oci-archive manifest = umoci\'s');
  await pool(v.docker.layers.map((l, i) => async () => {
    const seen = await inspectLayer(l.file, 'none');
    if (seen.diffId !== l.diffId) throw new BenchError(`docker-archive layer ${i + 1} hashes to ${seen.diffId}, diff_id is ${l.diffId}`);
  }), 2);
  done.push('gzip -dc | sha256sum = diff_ids (umoci and gzip -6 layers), docker-archive layer tars = diff_ids');
  log(`  validated with: ${done.join('; ')}`);
  return done;
}

// ---- the gzip-wrapped plain rootfs --------------------------------------------------------------

const ZEROS = 800 * MiB;
const RANDOM = 200 * MiB;

/** A flat rootfs tar (no layers, no manifest) with one 800 MiB file of zeros and 200 MiB of random data, `gzip -1`. */
export async function buildWrapped(cache: string, log: (s: string) => void): Promise<WrappedMeta> {
  const started = Date.now();
  const dir = wrappedDir(cache);
  const partial = `${dir}.partial`;
  removeTree(partial);
  const stage = join(partial, 'stage');
  mkdirSync(join(stage, 'etc'), { recursive: true });
  mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(stage, 'opt', 'data'), { recursive: true });
  mkdirSync(join(stage, 'tmp'), { mode: 0o1777 });
  writeFileSync(join(stage, 'etc', 'hostname'), 'strata-bench\n');
  if (existsSync('/etc/os-release')) writeFileSync(join(stage, 'etc', 'os-release'), readFileSync('/etc/os-release'));
  symlinkSync('usr/bin', join(stage, 'bin'));
  // zeros: a sparse file reads back as zeros, so tar (without --sparse) stores 800 MiB of them
  writeFileSync(join(stage, 'opt', 'data', 'zeros.bin'), '');
  truncateSync(join(stage, 'opt', 'data', 'zeros.bin'), ZEROS);
  log(`  writing ${RANDOM / MiB} MiB of random data…`);
  writeGenerated(join(stage, 'opt', 'data', 'random.bin'), RANDOM, 'random', 12);
  const archive = join(partial, 'rootfs.tar.gz');
  const tarArgs = ['-c', '--format=pax', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--pax-option=delete=atime,delete=ctime', '-C', stage, 'bin', 'etc', 'opt', 'tmp', 'usr'];
  log(`    ${showCmd('tar', tarArgs.map((a) => a.replace(partial, '…')))} | gzip -n -1`);
  const r = spawnSync('sh', ['-c', 'tar "$@" | gzip -n -1 > "$0"', archive, ...tarArgs], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new BenchError(`writing ${archive} failed\n${tail(r.stderr)}`);
  removeTree(stage);
  const seen = await inspectLayer(archive, 'gzip');
  const meta: WrappedMeta = {
    version: REAL_VERSION, builtAt: new Date().toISOString(), buildSeconds: 0, archive: 'rootfs.tar.gz',
    archiveSize: statSync(archive).size, uncompressedSize: seen.bytes, entries: seen.entries,
    contents: [`opt/data/zeros.bin ${ZEROS / MiB} MiB of zeros`, `opt/data/random.bin ${RANDOM / MiB} MiB random`, 'etc/hostname, etc/os-release, bin → usr/bin, tmp/'],
  };
  removeTree(dir);
  renameSync(partial, dir);
  meta.buildSeconds = (Date.now() - started) / 1000;
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
  return { ...meta, archive: join(dir, meta.archive) };
}
