// Media types of image manifests, indexes, configs and layers, and what they tell before any byte
// of a blob is read: archives (open.ts) and registries (registry/) read descriptors alike.
import type { Compression, Platform } from '../model.ts';

export const IMAGE_CONFIG_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);
export const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
export const KNOWN_ARTIFACTS: Record<string, string> = {
  'application/vnd.cncf.helm.config.v1+json': 'a Helm chart',
  'application/vnd.cncf.notary.signature': 'a Notary signature',
  'application/vnd.dev.cosign.artifact.sig.v1+json': 'a cosign signature',
  'application/vnd.in-toto+json': 'an in-toto attestation',
  'application/vnd.wasm.config.v1+json': 'a WebAssembly module',
};

/** os/architecture/variant of a config or an index entry's `platform`, if it names them. */
export function platformOf(v: unknown): Platform | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const cfg = v as Record<string, unknown>;
  if (typeof cfg.os !== 'string' || typeof cfg.architecture !== 'string') return undefined;
  return { os: cfg.os, architecture: cfg.architecture, ...(typeof cfg.variant === 'string' ? { variant: cfg.variant } : {}) };
}

/** The compression a layer media type names ('none' for plain tar or an unknown type). */
export function compressionOf(mediaType?: string): Compression {
  if (!mediaType) return 'none';
  if (/gzip/.test(mediaType)) return 'gzip';
  if (/zstd/.test(mediaType)) return 'zstd';
  return 'none';
}

/** The media type of a layer the archive gives none for. */
export function defaultMediaType(c: Compression): string {
  return c === 'gzip' ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
    : c === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd'
    : 'application/vnd.docker.image.rootfs.diff.tar';
}
