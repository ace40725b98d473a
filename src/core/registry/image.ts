// An image in a registry, opened like an archive: the reference's manifest (an index lists one
// image per platform, chosen as for archives), then the chosen manifest's config, and its layers
// pulled in parallel — a few at a time, in layer order — each verified as it streams.
import { brief, quoted, StrataError } from '../errors.ts';
import type { Spool } from '../env.ts';
import type { ArchiveInfo, ImageMeta, ImageSummary, LayerInfo } from '../model.ts';
import { diffIds, mapHistory, summarizeConfig } from '../archive/config.ts';
import { compressionOf, IMAGE_CONFIG_TYPES, INDEX_TYPES, KNOWN_ARTIFACTS, platformOf } from '../archive/media-types.ts';
import { ATTESTATION_WHY, isAttestation, selectImage, type ImageSelector } from '../archive/select.ts';
import { sniffCompression } from '../compress/decompress.ts';
import { RegistryClient, type Descriptor, type Manifest, type RegistryOptions } from './client.ts';
import { formatReference, parseReference, shortReference, type ImageReference } from './reference.ts';

export interface PulledLayer { info: LayerInfo; descriptor: Descriptor }

/** A chosen image of a registry: its metadata (as an archive's) and its layers still to pull. */
export interface RegistryResolved { meta: ImageMeta; layers: PulledLayer[] }

export interface RegistryImage {
  ref: ImageReference;
  client: RegistryClient;
  /** the images of the reference (one per platform of an index), as an archive lists its images */
  info: ArchiveInfo;
  resolve(sel?: ImageSelector, signal?: AbortSignal): Promise<RegistryResolved>;
}

/** Configs are small JSON documents; bigger is not one. */
const CONFIG_LIMIT = 64 << 20;

type Json = Record<string, unknown>;

/**
 * Opens `input` (a reference, `docker://` optional): reads the manifest it names. For an index,
 * each platform becomes an image (attestation manifests skipped); for an image manifest, its
 * config is read at once, so the platform is known before a choice is made.
 */
export async function openRegistry(input: string, opts: RegistryOptions & { signal?: AbortSignal }): Promise<RegistryImage> {
  const ref = parseReference(input);
  const name = input.trim().replace(/^docker:\/\//i, '');
  const client = new RegistryClient(ref, name, opts);
  const { signal } = opts;
  const top = await client.manifest(ref.digest ?? ref.tag!, signal);
  const label = shortReference(ref);
  const skipped: ArchiveInfo['skipped'] = [];
  if (isIndex(top)) {
    const entries: Descriptor[] = [];
    for (const raw of Array.isArray(top.json.manifests) ? top.json.manifests : []) {
      const d = descriptor(raw, `${name}: an entry of the index`);
      if (isAttestation(raw as Json)) { skipped.push({ what: d.digest, why: ATTESTATION_WHY }); continue; }
      entries.push(d);
    }
    if (!entries.length) {
      throw new StrataError('NO_IMAGES', `${name}: the index ${top.digest} lists no images${skipped.length ? ' (only attestation manifests)' : ''}.`);
    }
    const images: ImageSummary[] = entries.map((d, index) => ({
      // the layer count is known once a platform's manifest is read; 0 here means "not read"
      index, name: label, tags: [label], ...(d.platform ? { platform: d.platform } : {}), digest: d.digest, layerCount: 0,
    }));
    return {
      ref, client, info: { format: 'registry', outerCompression: 'none', images, skipped },
      resolve: async (sel = {}, sig = signal) => {
        const i = selectImage(images, sel, name);
        const d = entries[i];
        const m = await client.manifest(d.digest, sig, d);
        if (isIndex(m)) throw new StrataError('NO_IMAGES', `${name}: the index entry for ${images[i].platform ? platformName(images[i]) : d.digest} is itself an index; Strata reads one level of index from a registry.`);
        const image = await readImage(client, m, sig);
        return resolved(client, image, { ...images[i], layerCount: image.layers.length }, top.digest);
      },
    };
  }
  const image = await readImage(client, top, signal);
  const platform = platformOf(image.config);
  const summary: ImageSummary = { index: 0, name: label, tags: [label], ...(platform ? { platform } : {}), digest: top.digest, layerCount: image.layers.length };
  return {
    ref, client, info: { format: 'registry', outerCompression: 'none', images: [summary], skipped },
    resolve: async (sel = {}) => {
      selectImage([summary], sel, name); // a --platform the image is not for is an error, as for archives
      return resolved(client, image, summary);
    },
  };
}

const platformName = (im: ImageSummary) => `${im.platform!.os}/${im.platform!.architecture}${im.platform!.variant ? '/' + im.platform!.variant : ''}`;

function isIndex(m: Manifest): boolean {
  return INDEX_TYPES.has(m.mediaType) || (!m.json.layers && Array.isArray(m.json.manifests));
}

function descriptor(raw: unknown, what: string): Descriptor {
  const d = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Json;
  if (typeof d.digest !== 'string' || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(d.digest)) {
    throw new StrataError('REGISTRY_ERROR', `${what} has no valid digest (${quoted(JSON.stringify(d.digest) ?? 'none', 100)}).`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new StrataError('REGISTRY_ERROR', `${what} (${brief(d.digest)}) has no valid size.`);
  }
  const platform = platformOf(d.platform);
  return {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: d.digest, size: d.size,
    ...(Array.isArray(d.urls) ? { urls: d.urls.map(String) } : {}),
    ...(platform ? { platform } : {}),
  };
}

interface ImageParts { manifest: Manifest; config: Json; configDesc: Descriptor; layers: Descriptor[] }

async function readImage(client: RegistryClient, m: Manifest, signal?: AbortSignal): Promise<ImageParts> {
  const name = client.name;
  if (!Array.isArray(m.json.layers) || !m.json.config) {
    throw new StrataError('NOT_A_CONTAINER_IMAGE', `${name}: manifest ${m.digest} is not an image manifest (media type ${m.mediaType ? brief(m.mediaType) : 'unknown'}).`);
  }
  const configDesc = descriptor(m.json.config, `${name}: the config descriptor of manifest ${m.digest}`);
  if (configDesc.mediaType && !IMAGE_CONFIG_TYPES.has(configDesc.mediaType)) {
    const kind = KNOWN_ARTIFACTS[configDesc.mediaType] ?? 'an OCI artifact';
    throw new StrataError('NOT_A_CONTAINER_IMAGE', `${name} is ${kind} (config media type ${brief(configDesc.mediaType)}), not a container image: there is no filesystem to inspect.`);
  }
  const layers = (m.json.layers as unknown[]).map((l, k) => descriptor(l, `${name}: layer ${k + 1} of manifest ${m.digest}`));
  const bytes = await client.blobBytes(configDesc, `the config ${configDesc.digest}`, CONFIG_LIMIT, signal);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new StrataError('BAD_JSON', `${name}: the config ${configDesc.digest} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`, { cause: e });
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new StrataError('BAD_JSON', `${name}: the config ${configDesc.digest} is not a JSON object.`);
  return { manifest: m, config: config as Json, configDesc, layers };
}

function resolved(client: RegistryClient, p: ImageParts, summary: ImageSummary, indexDigest?: string): RegistryResolved {
  const ids = diffIds(p.config);
  const history = mapHistory(p.config, p.layers.length);
  const layers: PulledLayer[] = p.layers.map((d, i) => {
    const h = history.find((e) => e.layer === i);
    const info: LayerInfo = {
      index: i, digest: d.digest, ...(ids[i] ? { diffId: ids[i] } : {}),
      mediaType: d.mediaType, compression: compressionOf(d.mediaType), compressedSize: d.size, member: d.digest,
      createdBy: h?.createdBy, created: h?.created, comment: h?.comment,
    };
    return { info, descriptor: d };
  });
  const platform = summary.platform ?? platformOf(p.config);
  const ref = client.ref;
  const meta: ImageMeta = {
    source: {
      name: formatReference(ref), size: p.configDesc.size + p.layers.reduce((a, l) => a + l.size, 0),
      registry: { reference: formatReference(ref), digest: p.manifest.digest, ...(indexDigest ? { indexDigest } : {}) },
    },
    format: 'registry',
    image: { ...summary, ...(platform ? { platform } : {}), digest: p.manifest.digest, layerCount: layers.length },
    config: summarizeConfig(p.config),
    history,
    layers: layers.map((l) => l.info),
    rawConfig: JSON.stringify(p.config, null, 2),
  };
  return { meta, layers };
}

export interface PullOptions {
  /** layers downloading at once (default 3: browsers open 6 connections a host) */
  parallel?: number;
  signal?: AbortSignal;
  /** bytes of layer `index` received so far (back to 0 when a download starts again) */
  onProgress?: (index: number, received: number) => void;
}

/**
 * Pulls every layer into a spool of its own, `parallel` at a time in layer order (the merge needs
 * them in that order), and resolves each with its Blob as soon as it is complete and verified.
 * The layer's compression is then read from its first bytes (as for archives): a media type can lie.
 * A failure stops the downloads not yet started; the caller aborts `signal` to stop the others.
 */
export function pullLayers(client: RegistryClient, layers: PulledLayer[], spool: (layer: PulledLayer) => Spool, opts: PullOptions = {}): Promise<Blob>[] {
  const parallel = Math.max(1, opts.parallel ?? 3);
  let running = 0;
  let failed = false;
  const queue: (() => void)[] = [];
  const slot = () => new Promise<void>((go) => {
    if (running < parallel) { running++; go(); } else queue.push(() => { running++; go(); });
  });
  const free = () => { running--; queue.shift()?.(); };
  const total = layers.length;
  return layers.map(async (l) => {
    await slot();
    try {
      if (failed) throw new StrataError('ABORTED', 'The operation was cancelled.');
      const what = `layer ${l.info.index + 1} of ${total} (${l.descriptor.digest})`;
      let s = spool(l);
      try {
        await client.blob(l.descriptor, what, (c) => s.write(c), {
          signal: opts.signal,
          onProgress: (n) => opts.onProgress?.(l.info.index, n),
          restart: async () => { await s.abort(); s = spool(l); },
        });
      } catch (e) {
        await s.abort();
        throw e;
      }
      const blob = await s.finish();
      l.info.compression = sniffCompression(new Uint8Array(await blob.slice(0, 8).arrayBuffer()));
      return blob;
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      free();
    }
  });
}
