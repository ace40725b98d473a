// A minimal OCI image-layout writer: gzip'd layer blobs made by GNU tar + gzip, config, manifest,
// index.json, plus Docker 25+'s manifest.json so the archive is what `docker save` writes today.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BenchError, showCmd, tail } from './proc.ts';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor { mediaType: string; digest: string; size: number }

export interface LayerBlob extends Descriptor {
  diffId: string;
  uncompressedSize: number;
  createdBy: string;
}

/** What one layer is made of: `tar -C dir names…` groups, in order, into one tar stream. */
export interface LayerPlan {
  createdBy: string;
  /** 'pax' is what buildkit-style writers emit for long names and sub-second mtimes; 'gnu' uses ././@LongLink. */
  format: 'pax' | 'gnu';
  sources: { dir: string; names: string[] }[];
  /** GNU tar --transform expressions (e.g. to move node_modules under /app). */
  transforms?: string[];
}

/** Counts and hashes the bytes that flow through it. */
class HashCount extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

function exitOf(child: ReturnType<typeof spawn>, what: string, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new BenchError(`starting ${what}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new BenchError(`${what} exited with ${code ?? signal}\n${tail(stderr())}`));
    });
  });
}

function tarArgs(plan: LayerPlan): string[] {
  const args = ['-c', '-f', '-', `--format=${plan.format}`, '--numeric-owner', '--sort=name'];
  if (plan.format === 'pax') args.push('--pax-option=delete=atime,delete=ctime');
  for (const t of plan.transforms ?? []) args.push(`--transform=${t}`);
  for (const s of plan.sources) args.push('-C', s.dir, ...s.names);
  return args;
}

/**
 * Stream `tar -c | gzip -n` into blobs/sha256/, hashing both sides on the way: the tar side
 * gives the diff_id, the gzip side the blob digest. Nothing is held in memory.
 */
export async function writeLayer(layoutDir: string, plan: LayerPlan, tmpName: string): Promise<LayerBlob> {
  const blobs = join(layoutDir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const tmp = join(blobs, `${tmpName}.tmp`);
  const args = tarArgs(plan);
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  const gzip = spawn('gzip', ['-n', '-6'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let tarErr = '';
  let gzipErr = '';
  tar.stderr.on('data', (c: Buffer) => (tarErr += c.toString()));
  gzip.stderr.on('data', (c: Buffer) => (gzipErr += c.toString()));
  const raw = new HashCount();
  const packed = new HashCount();
  await Promise.all([
    pipeline(tar.stdout, raw, gzip.stdin),
    pipeline(gzip.stdout, packed, createWriteStream(tmp)),
    exitOf(tar, showCmd('tar', args).slice(0, 300), () => tarErr),
    exitOf(gzip, 'gzip -n -6', () => gzipErr),
  ]);
  const hex = packed.hash.digest('hex');
  renameSync(tmp, join(blobs, hex));
  return {
    mediaType: MEDIA.layerGzip,
    digest: `sha256:${hex}`,
    size: packed.bytes,
    diffId: `sha256:${raw.hash.digest('hex')}`,
    uncompressedSize: raw.bytes,
    createdBy: plan.createdBy,
  };
}

/**
 * Re-encode a gzip layer blob with `gzip -n -<level>` into blobs/sha256/ of `layoutDir`: the same
 * tar bytes (the diff_id is re-derived from the inflated stream and returned), a new digest.
 */
export async function recompressLayer(
  src: string, layoutDir: string, tmpName: string, level: number,
): Promise<{ digest: string; size: number; diffId: string; uncompressedSize: number }> {
  const blobs = join(layoutDir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const tmp = join(blobs, `${tmpName}.tmp`);
  const gunzip = spawn('gzip', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const gzip = spawn('gzip', ['-n', `-${level}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let errs = '';
  gunzip.stderr.on('data', (c: Buffer) => (errs += c.toString()));
  gzip.stderr.on('data', (c: Buffer) => (errs += c.toString()));
  const raw = new HashCount();
  const packed = new HashCount();
  await Promise.all([
    pipeline(createReadStream(src), gunzip.stdin),
    pipeline(gunzip.stdout, raw, gzip.stdin),
    pipeline(gzip.stdout, packed, createWriteStream(tmp)),
    exitOf(gunzip, `gzip -dc ${src}`, () => errs),
    exitOf(gzip, `gzip -n -${level}`, () => errs),
  ]);
  const hex = packed.hash.digest('hex');
  renameSync(tmp, join(blobs, hex));
  return { digest: `sha256:${hex}`, size: packed.bytes, diffId: `sha256:${raw.hash.digest('hex')}`, uncompressedSize: raw.bytes };
}

export function writeJsonBlob(layoutDir: string, mediaType: string, value: unknown): Descriptor {
  const bytes = Buffer.from(JSON.stringify(value));
  const hex = createHash('sha256').update(bytes).digest('hex');
  const dir = join(layoutDir, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

const strip = ({ mediaType, digest, size }: Descriptor): Descriptor => ({ mediaType, digest, size });
const blobPath = (d: Descriptor): string => `blobs/sha256/${d.digest.slice('sha256:'.length)}`;

/**
 * Write config, manifest, index.json, oci-layout and manifest.json for the given layers.
 * history has one entry per layer plus an `empty_layer` ENV step, as real builds have, so
 * readers must not pair history with layers by index.
 */
export function writeImage(layoutDir: string, layers: LayerBlob[], opts: { refName: string; repoTag: string }): Descriptor {
  const created = new Date().toISOString();
  const history: object[] = layers.map((l) => ({ created, created_by: l.createdBy, comment: 'strata bench' }));
  history.splice(1, 0, { created, created_by: 'ENV STRATA_BENCH=1', empty_layer: true });
  const config = writeJsonBlob(layoutDir, MEDIA.config, {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'STRATA_BENCH=1'], Cmd: ['/bin/bash'], WorkingDir: '/app' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  });
  const manifest = writeJsonBlob(layoutDir, MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config,
    layers: layers.map(strip),
  });
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{
      ...manifest,
      annotations: { 'io.containerd.image.name': `docker.io/library/${opts.repoTag}`, 'org.opencontainers.image.ref.name': opts.refName },
    }],
  };
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layoutDir, 'manifest.json'), JSON.stringify([
    { Config: blobPath(config), RepoTags: [opts.repoTag], Layers: layers.map(blobPath) },
  ]));
  return manifest;
}
