// Open an image archive from a Blob: sniff the outer format by content, index members as Blob
// slices, list the images inside, and resolve one into config + layer openers.
import { brief, quoted, StrataError } from '../errors.ts';
import type { CoreEnv } from '../env.ts';
import type { ArchiveFormat, ArchiveInfo, Compression, ImageMeta, ImageSummary, LayerInfo } from '../model.ts';
import { decompressTo, sniffCompression } from '../compress/decompress.ts';
import { Inflate } from 'pako';
import { checksumOk, describeMagic, isZeroBlock } from '../tar/header.ts';
import { TarReader } from '../tar/reader.ts';
import { cleanMemberName } from '../layers/paths.ts';
import { indexTar, MemberIndex } from './outer-tar.ts';
import { jsonObject, readBytes, readJson } from './blob-io.ts';
import { diffIds, mapHistory, summarizeConfig } from './config.ts';
import { compressionOf, defaultMediaType, IMAGE_CONFIG_TYPES, INDEX_TYPES, KNOWN_ARTIFACTS, platformOf } from './media-types.ts';
import { ATTESTATION_WHY, isAttestation, platformString, selectImage, type ImageSelector } from './select.ts';

type Json = Record<string, unknown>;

export interface LayerSource {
  info: LayerInfo;
  blob: Blob;
  /** where `blob` sits inside Archive.blob, so another thread can re-open it from the file */
  range: { start: number; end: number };
}
export interface ResolvedImage { meta: ImageMeta; layers: LayerSource[] }
export type { ImageSelector };
export { platformString };

export interface Archive {
  info: ArchiveInfo;
  /** the outer tar (decompressed if the input was gzip/zstd-wrapped); a guessed rootfs: the input */
  blob: Blob;
  /**
   * A gzip-wrapped plain rootfs judged so from its first member (`guessRootfs`): its one layer is the
   * input itself, compressed. Whoever decodes that layer must confirm it with `looksLikeImageLayout`
   * on its member names, and open the input again without the guess if they name an image archive.
   */
  guessed?: boolean;
  resolve(sel?: ImageSelector): Promise<ResolvedImage>;
}

export interface OpenOptions {
  /** compressed bytes of a wrapped archive read so far (see openArchive) */
  onProgress?: (read: number, total: number) => void;
  /** judge a gzip-wrapped archive from its first member instead of decompressing all of it first */
  guessRootfs?: boolean;
}

interface LayerRef {
  member: string;
  digest?: string;
  /** the digest came from LayerSources: it describes the registry blob, which may not be what is stored */
  registryDigest?: boolean;
  diffId?: string; mediaType?: string; size?: number; urls?: string[] }
interface Candidate {
  summary: Omit<ImageSummary, 'index'>;
  configMember: string | null;
  config: Json;
  layers: LayerRef[];
  /** created_by for legacy images, which have no history */
  legacyCreatedBy?: (string | undefined)[];
}

/**
 * `onProgress(read, total)`: compressed bytes of a wrapped archive read so far (decompressing a
 * `docker save | gzip` of a gigabyte takes seconds before anything else can be said).
 */
export async function openArchive(input: Blob, name: string, env: CoreEnv, signal?: AbortSignal,
  opts: OpenOptions = {}): Promise<Archive> {
  if (input.size === 0) throw new StrataError('NOT_AN_IMAGE', `${name} is empty (0 bytes): not an image archive.`);
  const head = await readBytes(input, 0, Math.min(input.size, 512));
  let outer: Compression = sniffCompression(head);
  let blob = input;
  if (outer === 'gzip' && opts.guessRootfs) {
    const first = await firstMemberName(input);
    // a plain rootfs as one gzip layer: the input itself, never decompressed to a copy
    if (first !== null && !ARCHIVE_MEMBER.test(first)) {
      const rootfs = { format: 'rootfs' as const, candidates: [rootfsCandidate(defaultMediaType('gzip'))], skipped: [] };
      return { ...archiveOf(new MemberIndex(input, new Map(), name), outer, rootfs, input, name), guessed: true };
    }
  }
  if (outer !== 'none') {
    const spool = env.spool(`${name} (decompressed)`);
    let read = 0;
    const counted = () => input.stream().pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(c, out) { read += c.length; opts.onProgress?.(read, input.size); out.enqueue(c); },
    }));
    try {
      await decompressTo(opts.onProgress ? counted : () => input.stream(), outer, (c) => spool.write(c), { signal, what: `${name} (${outer} wrapper)` });
      blob = await spool.finish();
    } catch (e) {
      await spool.abort();
      throw e;
    }
    if (blob.size === 0) throw new StrataError('NOT_AN_IMAGE', `${name} decompresses to nothing: not an image archive.`);
  }
  const first = await readBytes(blob, 0, Math.min(blob.size, 512));
  if (first.length < 512 || (!checksumOk(first, 0) && !isZeroBlock(first, 0))) {
    const magic = describeMagic(first);
    throw new StrataError('NOT_AN_IMAGE', `${name} is not an image archive: ${magic ? `it is ${magic}` : 'it is not a tar file'}. Expected the output of docker save, podman save or skopeo copy (docker-archive / oci-archive).`);
  }
  const index = await indexTar(blob, name, signal);
  return archiveOf(index, outer, await detect(index, name), input, name);
}

type Detected = { format: ArchiveFormat; candidates: Candidate[]; skipped: ArchiveInfo['skipped'] };

function archiveOf(index: MemberIndex, outer: Compression, { format, candidates, skipped }: Detected, input: Blob, name: string): Archive {
  const images: ImageSummary[] = candidates.map((c, i) => ({ ...c.summary, index: i }));
  const info: ArchiveInfo = { format, outerCompression: outer, images, skipped };
  return {
    info,
    blob: index.blob,
    resolve: async (sel = {}) => {
      const i = selectImage(images, sel, name);
      return load(index, candidates[i], images[i], format, { name, size: input.size }, name);
    },
  };
}

/** Names an image archive's first member can have (docker save, podman, skopeo, kaniko, OCI layout). */
const ARCHIVE_MEMBER = /^(?:manifest\.json|index\.json|oci-layout|repositories|blobs(?:\/.*)?|(?:sha256:)?[0-9a-f]{64}(?:[./:].*)?)$|\.(?:json|tar|tgz|gz|zst)$|(?:^|\/)(?:layer\.tar|json|VERSION)$/;
/** how much of a gzip wrapper is inflated to find its first member */
const PEEK_IN = 1 << 20;
const PEEK_OUT = 1 << 20;

/**
 * The first member of the tar inside a gzip wrapper with a name (`./` has none), from at most its
 * first MiB; null when there is none there or the bytes are not a tar (the full open says why).
 */
async function firstMemberName(input: Blob): Promise<string | null> {
  let found: string | null = null;
  let out = 0;
  const tar = new TarReader({
    entry(e) {
      const n = cleanMemberName(e.name);
      if (n && found === null) found = n;
      return false;
    },
  });
  const inflate = new Inflate();
  inflate.onData = (c: Uint8Array) => {
    if (found !== null || out >= PEEK_OUT) return;
    out += c.length;
    try { tar.push(c); } catch { out = PEEK_OUT; }
  };
  for (let at = 0; at < Math.min(input.size, PEEK_IN) && found === null && out < PEEK_OUT && !inflate.ended; at += 64 << 10) {
    inflate.push(await readBytes(input, at, Math.min(input.size, PEEK_IN, at + (64 << 10))), false);
    if (inflate.err) return null;
  }
  return found;
}

/**
 * Whether a tar's member names lay out an image archive (what `detect` would take for one): a
 * guessed rootfs whose names do was an image archive after all.
 */
export function looksLikeImageLayout(names: readonly string[]): boolean {
  const set = new Set<string>();
  for (const n of names) set.add(cleanMemberName(n));
  if (set.has('manifest.json') || set.has('index.json') || set.has('oci-layout')) return true;
  for (const n of set) {
    const m = /^([^/]+)\/json$/.exec(n);
    if (m && set.has(`${m[1]}/layer.tar`)) return true;
  }
  return false;
}

async function detect(idx: MemberIndex, name: string): Promise<Detected> {
  if (idx.has('manifest.json')) {
    return { format: idx.has('index.json') ? 'docker-save-oci' : 'docker-save', candidates: await dockerSave(idx, name), skipped: [] };
  }
  if (idx.has('index.json') || idx.has('oci-layout')) return ociLayout(idx, name);
  const legacy = await dockerLegacy(idx, name);
  if (legacy) return { format: 'docker-legacy', candidates: legacy, skipped: [] };
  return { format: 'rootfs', candidates: [rootfsCandidate('application/x-tar')], skipped: [] };
}

function hexOf(digest: unknown): string | null {
  const m = typeof digest === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(digest) : null;
  return m ? m[1] : null;
}

/** A digest can be read off these member names; `<id>/layer.tar` ids are not digests. */
function digestFromMember(member: string): string | undefined {
  const m = /^(?:blobs\/sha256\/|sha256:)?([0-9a-f]{64})(?:\.tar(?:\.gz|\.zst)?)?$/.exec(member);
  return m ? `sha256:${m[1]}` : undefined;
}

async function dockerSave(idx: MemberIndex, name: string): Promise<Candidate[]> {
  const manifest = await readJson<unknown>(idx.open('manifest.json', 'manifest'), `${name}: manifest.json`);
  if (manifest === null) throw new StrataError('NOT_AN_IMAGE', `${name}: manifest.json is null, so the archive lists no images. It is not a usable image archive.`);
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new StrataError('NOT_AN_IMAGE', `${name}: manifest.json lists no images (expected a non-empty array of {Config, RepoTags, Layers}).`);
  }
  const out: Candidate[] = [];
  for (const [i, raw] of manifest.entries()) {
    const e = raw as Json;
    if (!e || typeof e.Config !== 'string' || !Array.isArray(e.Layers)) {
      throw new StrataError('BAD_JSON', `${name}: manifest.json entry ${i} has no Config or Layers.`);
    }
    const configMember = e.Config;
    const config = jsonObject(await readJson(idx.open(configMember, `config of image ${i}`), `${name}: config ${quoted(configMember)}`), `${name}: config ${quoted(configMember)}`);
    const layerNames = (e.Layers as unknown[]).map((l, k) => {
      if (typeof l !== 'string' || !l) throw new StrataError('BAD_JSON', `${name}: manifest.json entry ${i} lists layer ${k + 1} as ${quoted(JSON.stringify(l) ?? String(l), 60)}, not a file name.`);
      return l;
    });
    const ids = diffIds(config);
    const sources = (e.LayerSources ?? {}) as Record<string, Json>;
    const tags = Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    const hex = hexOf('sha256:' + configMember.replace(/^blobs\/sha256\/|^sha256:|\.json$/g, ''));
    out.push({
      summary: {
        name: tags[0] ?? (hex ? `sha256:${hex.slice(0, 12)}` : `image ${i}`),
        tags,
        platform: platformOf(config),
        ...(hex ? { digest: `sha256:${hex}` } : {}),
        layerCount: e.Layers.length,
      },
      configMember,
      config,
      layers: layerNames.map((member, k) => {
        const src = ids[k] ? sources[ids[k]] : undefined;
        const registry = typeof src?.digest === 'string' ? src.digest : undefined;
        return {
          member,
          registryDigest: !!registry,
          digest: registry ?? digestFromMember(member),
          diffId: ids[k],
          mediaType: typeof src?.mediaType === 'string' ? src.mediaType : undefined,
        };
      }),
    });
  }
  return out;
}

async function ociLayout(idx: MemberIndex, name: string): Promise<{ format: ArchiveFormat; candidates: Candidate[]; skipped: ArchiveInfo['skipped'] }> {
  if (!idx.has('index.json')) throw new StrataError('NOT_AN_IMAGE', `${name} has an oci-layout file but no index.json: the OCI image layout is incomplete.`);
  const top = jsonObject(await readJson(idx.open('index.json', 'index'), `${name}: index.json`), `${name}: index.json`);
  const candidates: Candidate[] = [];
  const skipped: ArchiveInfo['skipped'] = [];
  const artifacts: string[] = [];
  /** the member a descriptor's digest names, blobs/<algorithm>/<hex> */
  const memberOf = (d: Json, what: string): string => {
    const digest = typeof d.digest === 'string' ? d.digest : '';
    const m = /^([a-z0-9]+):([a-zA-Z0-9=_-]+)$/.exec(digest);
    if (!m) throw new StrataError('BAD_JSON', `${name}: ${what} has an invalid digest ${quoted(JSON.stringify(d.digest) ?? 'none', 100)}.`);
    return `blobs/${m[1]}/${m[2]}`;
  };
  const blobOf = (d: Json, what: string): Blob => idx.open(memberOf(d, what), `${what} blob ${d.digest}`);
  const walk = async (list: unknown, refName: string | undefined, depth: number): Promise<void> => {
    if (depth > 8) throw new StrataError('BAD_JSON', `${name}: image indexes nested too deeply.`);
    if (!Array.isArray(list)) return;
    for (const raw of list) {
      const d = jsonObject(raw, `${name}: an entry of "manifests" in an image index`);
      const ann = (d.annotations ?? {}) as Record<string, unknown>;
      const named = [ann['org.opencontainers.image.ref.name'], ann['io.containerd.image.name']].find((v) => typeof v === 'string') as string | undefined;
      const ref = named ?? refName;
      const digest = typeof d.digest === 'string' ? d.digest : '';
      if (isAttestation(d)) {
        skipped.push({ what: digest, why: ATTESTATION_WHY });
        continue;
      }
      const body = jsonObject(await readJson(blobOf(d, 'manifest'), `${name}: blob ${digest}`), `${name}: manifest ${digest}`);
      const mt = [body.mediaType, d.mediaType].find((v): v is string => typeof v === 'string') ?? '';
      if (INDEX_TYPES.has(mt) || (!body.layers && Array.isArray(body.manifests))) {
        await walk(body.manifests, ref, depth + 1);
        continue;
      }
      if (!Array.isArray(body.layers) || !body.config) {
        skipped.push({ what: digest, why: `not an image manifest (media type ${mt ? brief(mt) : 'unknown'})` });
        continue;
      }
      const cfgDesc = jsonObject(body.config, `${name}: the config descriptor of manifest ${digest}`);
      const cfgType = typeof cfgDesc.mediaType === 'string' ? cfgDesc.mediaType : '';
      if (cfgType && !IMAGE_CONFIG_TYPES.has(cfgType)) {
        const kind = KNOWN_ARTIFACTS[cfgType] ?? 'an OCI artifact';
        skipped.push({ what: digest, why: `${kind} (config media type ${brief(cfgType)}), not a container image` });
        artifacts.push(`${kind} (config media type ${brief(cfgType)})`);
        continue;
      }
      const config = jsonObject(await readJson(blobOf(cfgDesc, 'config'), `${name}: config ${cfgDesc.digest}`), `${name}: config ${cfgDesc.digest}`);
      const platform = platformOf(d.platform) ?? platformOf(config);
      const ids = diffIds(config);
      candidates.push({
        summary: {
          name: ref ?? `${digest.slice(0, 19)}`,
          tags: ref ? [ref] : [],
          ...(platform ? { platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) } } : {}),
          digest,
          layerCount: body.layers.length,
        },
        configMember: `blobs/sha256/${hexOf(cfgDesc.digest) ?? ''}`,
        config,
        layers: (body.layers as unknown[]).map((raw, k) => {
          const l = jsonObject(raw, `${name}: layer ${k + 1} of manifest ${digest}`);
          return {
            member: memberOf(l, `layer ${k + 1} of manifest ${digest}`),
            digest: l.digest as string,
            diffId: ids[k],
            mediaType: typeof l.mediaType === 'string' ? l.mediaType : '',
            size: typeof l.size === 'number' ? l.size : undefined,
            urls: Array.isArray(l.urls) ? l.urls.map(String) : undefined,
          };
        }),
      });
    }
  };
  await walk(top.manifests, undefined, 0);
  if (!candidates.length) {
    if (artifacts.length) {
      throw new StrataError('NOT_A_CONTAINER_IMAGE', `${name} holds ${[...new Set(artifacts)].join(', ')}, not a container image: there is no filesystem to inspect.`);
    }
    throw new StrataError('NO_IMAGES', `${name}: index.json lists no images${top.manifests === null ? ' ("manifests": null)' : ''}${skipped.length ? ` (skipped: ${[...new Set(skipped.map((s) => s.why))].join('; ')})` : ''}.`);
  }
  return { format: 'oci-layout', candidates, skipped };
}

async function dockerLegacy(idx: MemberIndex, name: string): Promise<Candidate[] | null> {
  const jsons = new Map<string, Json>();
  for (const n of idx.names()) {
    const m = /^([^/]+)\/json$/.exec(n);
    if (m && idx.has(`${m[1]}/layer.tar`)) jsons.set(m[1], jsonObject(await readJson(idx.open(n, 'layer json'), `${name}: ${n}`), `${name}: ${n}`));
  }
  if (!jsons.size) return null;
  const tops: { id: string; tags: string[] }[] = [];
  if (idx.has('repositories')) {
    const what = `${name}: repositories`;
    const repos = jsonObject(await readJson(idx.open('repositories', 'repositories'), what), what);
    const byId = new Map<string, string[]>();
    // { repo: { tag: id } }; a string where the tags belong would be iterated character by character
    for (const [repo, tags] of Object.entries(repos)) {
      for (const [tag, id] of Object.entries(jsonObject(tags, `${what}: ${quoted(repo)}`))) {
        if (typeof id !== 'string' || !id) throw new StrataError('BAD_JSON', `${what}: tag ${quoted(`${repo}:${tag}`)} names no layer id.`);
        const list = byId.get(id);
        if (list) list.push(`${repo}:${tag}`); else byId.set(id, [`${repo}:${tag}`]);
      }
    }
    for (const [id, tags] of byId) tops.push({ id, tags });
  }
  if (!tops.length) {
    const parents = new Set([...jsons.values()].map((j) => String(j.parent ?? '')));
    for (const id of jsons.keys()) if (!parents.has(id)) tops.push({ id, tags: [] });
  }
  return tops.map(({ id, tags }) => {
    const chain: string[] = [];
    for (let cur: string | undefined = id; cur; ) {
      const j = jsons.get(cur);
      if (!j) throw new StrataError('MISSING_BLOB', `${name}: layer ${brief(cur, 80)} (parent chain of ${brief(id.slice(0, 12))}) has no ${brief(cur, 80)}/json and layer.tar in the archive.`);
      if (chain.includes(cur) || chain.length > 1000) throw new StrataError('BAD_JSON', `${name}: the parent chain of layer ${brief(id.slice(0, 12))} loops.`);
      chain.push(cur);
      cur = typeof j.parent === 'string' && j.parent ? j.parent : undefined;
    }
    chain.reverse(); // root ancestor first
    const config = jsons.get(id)!;
    return {
      summary: { name: tags[0] ?? id.slice(0, 12), tags, platform: platformOf(config), layerCount: chain.length },
      configMember: `${id}/json`,
      config,
      layers: chain.map((l) => ({ member: `${l}/layer.tar` })),
      legacyCreatedBy: chain.map((l) => {
        const cmd = ((jsons.get(l)!.container_config ?? {}) as Json).Cmd;
        return Array.isArray(cmd) ? cmd.join(' ') : undefined;
      }),
    };
  });
}

function rootfsCandidate(mediaType: string): Candidate {
  return {
    summary: { name: 'root filesystem', tags: [], layerCount: 1 },
    configMember: null,
    config: {},
    layers: [{ member: '', mediaType }],
  };
}

async function load(idx: MemberIndex, c: Candidate, summary: ImageSummary, format: ArchiveFormat, source: { name: string; size: number }, name: string): Promise<ResolvedImage> {
  const history = mapHistory(c.config, c.layers.length);
  const layers: LayerSource[] = [];
  for (const [i, l] of c.layers.entries()) {
    let blob: Blob;
    let range = { start: 0, end: idx.blob.size };
    if (format === 'rootfs') blob = idx.blob;
    else if (!idx.has(l.member)) {
      const foreign = l.mediaType && /nondistributable|foreign/.test(l.mediaType);
      if (foreign) {
        throw new StrataError('FOREIGN_LAYER', `${name}: layer ${i + 1} (${l.digest ?? l.member}) is a foreign / non-distributable layer that is not in the archive${l.urls?.length ? ` (it is published at ${l.urls.join(', ')})` : ''}; it cannot be inspected offline.`);
      }
      throw new StrataError('MISSING_BLOB', `${name}: layer ${i + 1} ${quoted(l.member)}${l.digest ? ` (${quoted(l.digest)})` : ''} is missing from the archive. The archive is incomplete or was truncated.`);
    } else {
      const m = idx.resolve(l.member)!;
      range = { start: m.offset, end: m.offset + m.size };
      blob = idx.blob.slice(range.start, range.end);
    }
    const head = await readBytes(blob, 0, Math.min(blob.size, 8));
    const compression = sniffCompression(head);
    // docker save stores layers uncompressed; LayerSources' digest then names a blob that is not here
    const digest = l.registryDigest && compressionOf(l.mediaType) !== compression ? undefined : l.digest;
    const h = history.find((e) => e.layer === i);
    layers.push({
      blob,
      range,
      info: {
        index: i,
        ...(digest ? { digest } : {}),
        ...(l.diffId ? { diffId: l.diffId } : {}),
        mediaType: l.mediaType || defaultMediaType(compression),
        compression,
        compressedSize: blob.size,
        member: l.member || source.name,
        createdBy: h?.createdBy ?? c.legacyCreatedBy?.[i],
        created: h?.created,
        comment: h?.comment,
      },
    });
  }
  const meta: ImageMeta = {
    source,
    format,
    image: summary,
    config: summarizeConfig(c.config),
    history,
    layers: layers.map((l) => l.info),
    rawConfig: JSON.stringify(c.config, null, 2),
  };
  return { meta, layers };
}
