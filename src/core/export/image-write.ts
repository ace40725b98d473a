// Written images: a squashed image (layers 1..K as they were, then ONE layer holding the changes
// of K+1..N) and an image cut at layer k, as a docker-save or an OCI image layout archive. This
// module owns every byte that is not a layer: the rewritten config, manifests, index, member
// names and order, and the outer tar's headers — the CLI and the browser only supply the layers,
// so both write the same archive. Layers go first and the small files after (both formats allow
// any order), because the squashed layer's digest is known only once it has been written.
import { StrataError } from '../errors.ts';
import type { Compression, ImageMeta } from '../model.ts';
import { encodeHeader, endOfArchive, padding } from '../tar/writer.ts';
import { concatBytes } from '../bytes.ts';

export type ImageFormat = 'docker' | 'oci';

export interface ImageWriteOptions {
  /** squash: layers 1..keep unchanged, then one layer with the changes of keep+1..N; cut: layers 1..keep */
  op: 'squash' | 'cut';
  keep: number;
  format: ImageFormat;
  /** NAME[:TAG] (validated by normalizeTag); default: the image's own first tag, if it has one */
  tag?: string;
  /** gzip the squashed layer (kept layers are written as they are) */
  compress: boolean;
  /** the new config's `created`, RFC 3339 (see createdTime) */
  created: string;
}

/** A layer blob as the written archive holds it. */
export interface LayerBlob {
  digest: string;
  /** sha256 of the uncompressed tar (rootfs.diff_ids) */
  diffId: string;
  size: number;
  compression: Compression;
}

/** What the archive writer needs from its platform. */
export interface ImageSink {
  /** append bytes */
  write(b: Uint8Array): void | Promise<void>;
  /** append the blob of kept layer `index` (`blob` describes it) */
  writeKept(index: number, blob: LayerBlob): Promise<void>;
  /**
   * Append the squashed layer as a tar member: 512 bytes for its header, the blob, its padding.
   * Once the blob is written, `header(blob)` gives the header bytes to put in those 512, or null:
   * then drop the member (a kept layer has the same blob).
   */
  writeSquashed(header: (blob: LayerBlob) => Uint8Array | null): Promise<LayerBlob>;
}

export interface WrittenImage { config: string; manifest?: string; layers: LayerBlob[]; tag?: string }

const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  layer: { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' } as Record<Compression, string>,
};
const enc = new TextEncoder();

/** Throws BAD_OPTION when the options do not fit the image. */
export function checkImageWrite(meta: ImageMeta, o: ImageWriteOptions): void {
  const n = meta.layers.length;
  if (o.op === 'squash' && !(Number.isInteger(o.keep) && o.keep >= 0 && o.keep < n)) {
    throw new StrataError('BAD_OPTION', `Cannot keep ${o.keep} layer${o.keep === 1 ? '' : 's'} below the squashed one: "${meta.image.name}" has ${n} layer${n === 1 ? '' : 's'}, so keep 0 to ${n - 1}.`);
  }
  if (o.op === 'cut' && !(Number.isInteger(o.keep) && o.keep >= 1 && o.keep <= n)) {
    throw new StrataError('BAD_OPTION', `Cannot cut at layer ${o.keep}: "${meta.image.name}" has layers 1 to ${n}.`);
  }
  if (o.format !== 'docker' && o.format !== 'oci') throw new StrataError('BAD_OPTION', `Unknown image format "${String(o.format)}": docker or oci.`);
  if (o.tag !== undefined) normalizeTag(o.tag);
  if (Number.isNaN(Date.parse(o.created))) throw new StrataError('BAD_OPTION', `"${o.created}" is not a date and time (RFC 3339, e.g. 2024-01-31T12:00:00Z).`);
}

/** `created` from a pinned time (--created, RFC 3339 or a date), SOURCE_DATE_EPOCH (seconds), or now. */
export function createdTime(pinned: string | undefined, epoch: string | undefined, now: Date): string {
  let t: number;
  if (pinned !== undefined) {
    t = Date.parse(pinned);
    if (Number.isNaN(t)) throw new StrataError('BAD_OPTION', `--created "${pinned}" is not a date and time (RFC 3339, e.g. 2024-01-31T12:00:00Z).`);
  } else if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new StrataError('BAD_OPTION', `SOURCE_DATE_EPOCH "${epoch}" is not a whole number of seconds.`);
    t = Number(epoch) * 1000;
  } else {
    t = now.getTime();
  }
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new StrataError('BAD_OPTION', `The creation time ${pinned ?? epoch} is out of range.`);
  // whole seconds print without a fraction, like Docker's and skopeo's configs
  return d.getUTCMilliseconds() === 0 ? d.toISOString().replace('.000Z', 'Z') : d.toISOString();
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** NAME[:TAG] as a Docker reference with a tag (":latest" added), or BAD_OPTION naming the problem. */
export function normalizeTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const hasTag = colon > slash;
  const name = hasTag ? ref.slice(0, colon) : ref;
  const tag = hasTag ? ref.slice(colon + 1) : 'latest';
  const parts = name.split('/');
  const domain = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost') ? parts.shift()! : null;
  const bad = (why: string) => new StrataError('BAD_OPTION', `"${ref}" is not an image name: ${why} (expected NAME[:TAG], e.g. example.com/team/app:1.2).`);
  if (ref.includes('@')) throw bad('a digest cannot be a tag');
  if (domain !== null && !DOMAIN.test(domain)) throw bad(`"${domain}" is not a registry host`);
  for (const p of parts) if (!COMPONENT.test(p)) throw bad(`"${p}" is not a lower-case name component`);
  if (!TAG.test(tag)) throw bad(`"${tag}" is not a tag`);
  if (name.length > 255) throw bad('the name is longer than 255 characters');
  return `${name}:${tag}`;
}

/** The tag a written image gets when none is asked for: the source's first tag, if it is a name. */
export function defaultTag(meta: ImageMeta): string | undefined {
  for (const t of meta.image.tags) {
    try { return normalizeTag(t); } catch { /* an OCI ref name like "1.0" alone, or junk: next */ }
  }
  return undefined;
}

/** Member name of a layer blob: content-addressed in both formats. */
export function layerMember(format: ImageFormat, b: LayerBlob): string {
  const hex = b.digest.slice('sha256:'.length);
  if (format === 'oci') return `blobs/sha256/${hex}`;
  return `${hex}${b.compression === 'gzip' ? '.tar.gz' : b.compression === 'zstd' ? '.tar.zst' : '.tar'}`;
}

/** ustar header of an archive member (root-owned, 0644, the image's creation time). */
export function memberHeader(name: string, size: number, mtime: number): Uint8Array {
  return encodeHeader({ name, kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime, size });
}

/**
 * Writes the whole archive through `sink`: kept layers (each distinct blob once), the squashed
 * layer, then config, manifest(s) and index. `kept[i]` describes kept layer i as the sink writes it.
 */
export async function writeImageArchive(meta: ImageMeta, o: ImageWriteOptions, kept: LayerBlob[], sink: ImageSink,
  sha256: (b: Uint8Array) => string): Promise<WrittenImage> {
  checkImageWrite(meta, o);
  if (kept.length !== o.keep) throw new Error(`writeImageArchive: ${kept.length} kept layer blobs for keep=${o.keep}`);
  const mtime = Math.max(0, Math.floor(Date.parse(o.created) / 1000));
  const member = async (name: string, bytes: Uint8Array) => {
    await sink.write(concatBytes([memberHeader(name, bytes.length, mtime), bytes, new Uint8Array(padding(bytes.length))]));
  };
  if (o.format === 'oci') {
    await sink.write(concatBytes(['blobs/', 'blobs/sha256/'].map((name) => encodeHeader({ name, kind: 'dir', mode: 0o755, uid: 0, gid: 0, mtime }))));
  }
  const written = new Set<string>();
  for (const [i, b] of kept.entries()) {
    if (written.has(b.digest)) continue;
    written.add(b.digest);
    await sink.write(memberHeader(layerMember(o.format, b), b.size, mtime));
    await sink.writeKept(i, b);
    await sink.write(new Uint8Array(padding(b.size)));
  }
  const layers = [...kept];
  if (o.op === 'squash') {
    const squashed = await sink.writeSquashed((b) => (written.has(b.digest) ? null : memberHeader(layerMember(o.format, b), b.size, mtime)));
    layers.push(squashed);
  }
  const tag = o.tag !== undefined ? normalizeTag(o.tag) : defaultTag(meta);
  const config = enc.encode(JSON.stringify(newConfig(meta, o, layers)));
  const configDigest = sha256(config);
  const hex = (d: string) => d.slice('sha256:'.length);
  let manifestDigest: string | undefined;
  if (o.format === 'oci') {
    const manifest = enc.encode(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: MT.layer[l.compression], digest: l.digest, size: l.size })),
    }));
    manifestDigest = sha256(manifest);
    await member(`blobs/sha256/${hex(configDigest)}`, config);
    await member(`blobs/sha256/${hex(manifestDigest)}`, manifest);
    await member('index.json', enc.encode(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociIndex,
      manifests: [{ mediaType: MT.ociManifest, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag ?? 'latest' } }],
    })));
    await member('oci-layout', enc.encode(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  } else {
    await member(`${hex(configDigest)}.json`, config);
    await member('manifest.json', enc.encode(JSON.stringify([{
      Config: `${hex(configDigest)}.json`, RepoTags: tag ? [tag] : null, Layers: layers.map((l) => layerMember('docker', l)),
    }])));
  }
  await sink.write(endOfArchive());
  return { config: configDigest, ...(manifestDigest ? { manifest: manifestDigest } : {}), layers, ...(tag ? { tag } : {}) };
}

type Json = Record<string, unknown>;

/** v1 (`<id>/json`) fields that name the legacy layer chain; a v2 config has none of them */
const LEGACY_ONLY = ['id', 'parent', 'parent_id', 'layer_id', 'Size', 'throwaway'];

/**
 * The written config: the source's, key order and unknown fields kept, with a fresh `created`,
 * rootfs.diff_ids of the written layers and the history trimmed to them (empty_layer entries kept
 * in order; for a squash one entry, where the last replaced layer's was, names what it replaced).
 */
export function newConfig(meta: ImageMeta, o: ImageWriteOptions, layers: LayerBlob[]): Json {
  const src = parseConfig(meta.rawConfig);
  const cfg: Json = {};
  for (const [k, v] of Object.entries(src)) if (!(meta.format === 'docker-legacy' && LEGACY_ONLY.includes(k))) cfg[k] = v;
  // a plain root-filesystem tar has no config: a platform is required, and `docker import` says linux/amd64 too
  if (typeof cfg.architecture !== 'string' || !cfg.architecture) cfg.architecture = 'amd64';
  if (typeof cfg.os !== 'string' || !cfg.os) cfg.os = 'linux';
  cfg.created = o.created;
  cfg.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
  cfg.history = newHistory(meta, src, o);
  return cfg;
}

function parseConfig(raw: string): Json {
  try {
    const v: unknown = JSON.parse(raw || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
  } catch (e) {
    throw new StrataError('BAD_JSON', `The image config is not valid JSON (${e instanceof Error ? e.message : String(e)}).`, { cause: e });
  }
}

function newHistory(meta: ImageMeta, src: Json, o: ImageWriteOptions): Json[] {
  const n = meta.layers.length;
  const raw: Json[] = Array.isArray(src.history)
    ? (src.history as unknown[]).map((h) => (h && typeof h === 'object' ? h as Json : {}))
    // none (a legacy chain, a root-filesystem tar): one entry per layer, from what the layers say
    : meta.layers.map((l) => ({ ...(l.created ? { created: l.created } : {}), ...(l.createdBy ? { created_by: l.createdBy } : {}) }));
  const out: Json[] = [];
  let layer = 0;
  let squashAt = -1;
  for (const h of raw) {
    if (h.empty_layer === true) {
      // a cut ends with its last layer: what was done after it is not part of that image
      if (o.op === 'cut' && layer >= o.keep) break;
      out.push(h);
      continue;
    }
    const i = layer < n ? layer++ : -1;
    if (i >= 0 && i < o.keep) out.push(h);
    else if (i >= 0 && o.op === 'squash') squashAt = out.length; // where the last replaced layer's entry was
  }
  if (o.op === 'squash') {
    const first = o.keep + 1;
    const ids = meta.layers.slice(o.keep).map((l) => l.diffId ?? l.digest ?? l.member);
    const entry: Json = {
      created: o.created,
      created_by: `strata squash: layers ${first === n ? n : `${first}-${n}`} of ${n} as one`,
      comment: `merged ${n - o.keep} layer${n - o.keep === 1 ? '' : 's'}: ${ids.join(', ')}`,
    };
    out.splice(squashAt < 0 ? out.length : squashAt, 0, entry);
  }
  return out;
}

/** A layer as a Blob and what it is. */
export interface BlobLayer { blob: Blob; info: LayerBlob }

/**
 * The archive as one Blob whose parts are the layer Blobs themselves (the browser stitches them;
 * nothing is copied through JS). `squashed` makes the squashed layer when the writer asks for it.
 */
export async function imageArchiveBlob(meta: ImageMeta, o: ImageWriteOptions, kept: BlobLayer[],
  squashed: (() => Promise<BlobLayer>) | null, sha256: (b: Uint8Array) => string): Promise<{ blob: Blob; image: WrittenImage }> {
  const parts: BlobPart[] = [];
  const image = await writeImageArchive(meta, o, kept.map((k) => k.info), {
    write: (b) => { parts.push(b as Uint8Array<ArrayBuffer>); },
    writeKept: async (i) => { parts.push(kept[i].blob); },
    writeSquashed: async (header) => {
      if (!squashed) throw new Error('imageArchiveBlob: a squash needs its squashed layer');
      const s = await squashed();
      const h = header(s.info);
      if (h) parts.push(h as Uint8Array<ArrayBuffer>, s.blob, new Uint8Array(padding(s.info.size)));
      return s.info;
    },
  }, sha256);
  return { blob: new Blob(parts, { type: 'application/x-tar' }), image };
}
