// The bench images by name (`--images=…`): the synthetic one (build-image.ts) and the real-content
// ones of issue 12 (real-images.ts), each built once under .bench/, reused, and described alike.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, IMAGE_VERSION, imagePaths, loadCached, REF_NAME, type ImageMeta } from './build-image.ts';
import { BenchError } from './proc.ts';
import {
  buildFamily, buildWrapped, inspectLayer, loadFamily, loadWrapped, REAL_VERSION, type BenchLayer, type Family, type FamilyMeta,
  type WrappedMeta,
} from './real-images.ts';

export const IMAGE_KEYS = ['synthetic', 'text-go', 'text-gz', 'text-docker', 'libs-go', 'libs-gz', 'libs-docker', 'wrapped'] as const;
export type ImageKey = (typeof IMAGE_KEYS)[number];

export interface BenchImage {
  key: ImageKey;
  /** 'rootfs': a plain (gzip-wrapped) filesystem tar, no layers or manifest */
  kind: 'image' | 'rootfs';
  /** what strata reads */
  archive: string;
  archiveSize: number;
  format: string;
  writer: string;
  compression: string;
  /** what the native baselines read, in order */
  layers: BenchLayer[];
  /** an OCI layout of the same image, for `umoci unpack` */
  layout?: { dir: string; ref: string };
  totalUncompressed: number;
  totalCompressed: number;
  /** tar entries of all layers (`tar -t` lines, whiteouts included) */
  entries: number;
  builtAt: string;
  buildSeconds: number;
  /** what the layers hold and change, one line each */
  contents: string[];
  validatedWith: string[];
  /** the synthetic image's own record (the browser bench writes its uncompressed twin from it) */
  synthetic?: ImageMeta;
}

export function parseImageKeys(value: string): ImageKey[] {
  const keys = value.split(',').map((k) => k.trim()).filter(Boolean);
  const bad = keys.filter((k) => !(IMAGE_KEYS as readonly string[]).includes(k));
  if (bad.length || !keys.length) throw new BenchError(`--images: unknown ${bad.join(', ') || '(empty)'}; choose from ${IMAGE_KEYS.join(',')}`);
  return IMAGE_KEYS.filter((k) => keys.includes(k));
}

const MiB = 1 << 20;
const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

interface GetOpts { cache: string; repo: string; rebuild: boolean; log: (s: string) => void }

/** Tar entries of the synthetic image's layers: counted once, kept beside its meta.json. */
async function syntheticEntries(meta: ImageMeta, layers: string[], dir: string): Promise<number[]> {
  const file = join(dir, 'entries.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { builtAt: string; entries: number[] };
    if (saved.builtAt === meta.builtAt) return saved.entries;
  }
  const entries: number[] = [];
  for (const l of layers) entries.push((await inspectLayer(l, 'gzip')).entries);
  writeFileSync(file, JSON.stringify({ builtAt: meta.builtAt, entries }));
  return entries;
}

async function synthetic(o: GetOpts): Promise<BenchImage> {
  const paths = imagePaths(o.cache);
  let meta = o.rebuild ? undefined : loadCached(paths);
  if (meta) o.log(`image:   synthetic — reusing ${paths.archive} (built ${meta.builtAt} in ${meta.buildSeconds.toFixed(0)} s; --rebuild to redo)`);
  else {
    o.log(`image:   synthetic — building ${paths.archive} (${IMAGE_VERSION}); takes about a minute, once`);
    meta = await buildImage(o.repo, paths, o.log);
  }
  const files = meta.layers.map((l) => join(meta.layoutDir, 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
  const entries = await syntheticEntries(meta, files, paths.dir);
  const contents = Object.entries(meta.edits).map(([what, value]) =>
    `${what}: ${Array.isArray(value) ? `${value.length}: ${value.slice(0, 4).join(', ')}${value.length > 4 ? ', …' : ''}` : value}`);
  return {
    key: 'synthetic', kind: 'image', archive: meta.archive, archiveSize: meta.archiveSize,
    format: 'OCI layout + Docker 25+ manifest.json (bench/lib/oci.ts)', writer: 'GNU tar (PAX and GNU dialects)', compression: 'gzip -n -6',
    layers: meta.layers.map((l, i) => ({
      file: files[i]!, compression: 'gzip', size: l.size, uncompressedSize: l.uncompressedSize, digest: l.digest, diffId: l.diffId,
      createdBy: l.createdBy, entries: entries[i]!,
    })),
    layout: { dir: meta.layoutDir, ref: REF_NAME },
    totalUncompressed: meta.totalUncompressed, totalCompressed: meta.totalCompressed, entries: entries.reduce((a, b) => a + b, 0),
    builtAt: meta.builtAt, buildSeconds: meta.buildSeconds, contents, validatedWith: meta.validatedWith, synthetic: meta,
  };
}

async function family(f: Family, o: GetOpts, rebuilt: Set<string>): Promise<FamilyMeta> {
  const cached = o.rebuild && !rebuilt.has(f) ? undefined : loadFamily(o.cache, f);
  if (cached) return cached;
  o.log(`image:   ${f} — building .bench/${f}-${REAL_VERSION}/ with umoci and skopeo (once; a few minutes for libs)`);
  const meta = await buildFamily(o.cache, f, o.log);
  o.log(`  built in ${meta.buildSeconds.toFixed(0)} s`);
  rebuilt.add(f);
  return meta;
}

function fromFamily(key: ImageKey, meta: FamilyMeta, which: 'go' | 'gz' | 'docker'): BenchImage {
  const v = meta.variants[which];
  const contents = [
    ...meta.trees.map((t) => `tree ${t.from} → /${t.to}: ${mib(t.bytes)}, ${t.entries} entries`),
    ...Object.entries(meta.edits).map(([what, value]) =>
      `last layer, ${what}: ${Array.isArray(value) ? `${value.length}: ${value.slice(0, 3).join(', ')}${value.length > 3 ? ', …' : ''}` : value}`),
  ];
  return {
    key, kind: 'image', archive: v.archive, archiveSize: v.archiveSize, format: v.format, writer: v.writer, compression: v.compression,
    layers: v.layers, layout: v.layoutDir && v.ref ? { dir: v.layoutDir, ref: v.ref } : undefined,
    totalUncompressed: v.layers.reduce((a, l) => a + l.uncompressedSize, 0),
    totalCompressed: v.layers.reduce((a, l) => a + l.size, 0),
    entries: v.layers.reduce((a, l) => a + l.entries, 0),
    builtAt: meta.builtAt, buildSeconds: meta.buildSeconds, contents, validatedWith: meta.validatedWith,
  };
}

function fromWrapped(meta: WrappedMeta): BenchImage {
  return {
    key: 'wrapped', kind: 'rootfs', archive: meta.archive, archiveSize: meta.archiveSize,
    format: 'plain rootfs tar, gzip-wrapped (like docker export | gzip -1)', writer: 'GNU tar (PAX)', compression: 'gzip -n -1',
    layers: [{ file: meta.archive, compression: 'gzip', size: meta.archiveSize, uncompressedSize: meta.uncompressedSize, createdBy: 'docker export | gzip -1', entries: meta.entries }],
    totalUncompressed: meta.uncompressedSize, totalCompressed: meta.archiveSize, entries: meta.entries,
    builtAt: meta.builtAt, buildSeconds: meta.buildSeconds, contents: meta.contents, validatedWith: ['gzip -dc | tar -t'],
  };
}

/** The images asked for, in IMAGE_KEYS order; each built on first use (or with `rebuild`). */
export async function getImages(keys: ImageKey[], o: GetOpts): Promise<BenchImage[]> {
  const out: BenchImage[] = [];
  const rebuilt = new Set<string>();
  for (const key of keys) {
    if (key === 'synthetic') out.push(await synthetic(o));
    else if (key === 'wrapped') {
      let meta = o.rebuild ? undefined : loadWrapped(o.cache);
      if (!meta) {
        o.log(`image:   wrapped — building .bench/wrapped-${REAL_VERSION}/rootfs.tar.gz (once, about half a minute)`);
        meta = await buildWrapped(o.cache, o.log);
      }
      out.push(fromWrapped(meta));
    } else {
      const [f, which] = key.split('-') as [Family, 'go' | 'gz' | 'docker'];
      out.push(fromFamily(key, await family(f, o, rebuilt), which));
    }
  }
  return out;
}

/** What an image holds, for the log: files, layers, MB, compression, the writer. */
export function describeImage(img: BenchImage, log: (s: string) => void): void {
  log(`image ${img.key}: ${img.archive} (built ${img.builtAt}${img.buildSeconds ? ` in ${img.buildSeconds.toFixed(0)} s` : ''})`);
  log(`  ${img.kind === 'rootfs' ? 'plain rootfs, 1 tar' : `${img.layers.length} layers`}, ${img.entries} tar entries, ` +
    `${mib(img.totalUncompressed)} uncompressed, ${mib(img.totalCompressed)} as stored; archive ${mib(img.archiveSize)}`);
  log(`  format: ${img.format}; layers written by ${img.writer}; compression: ${img.compression}`);
  img.layers.forEach((l, i) => log(`  L${i + 1} ${mib(l.uncompressedSize).padStart(9)} → ${mib(l.size).padStart(9)}, ${String(l.entries).padStart(6)} entries  ${l.createdBy.slice(0, 110)}`));
  for (const c of img.contents) log(`  ${c}`);
}
