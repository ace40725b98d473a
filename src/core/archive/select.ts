// Choosing one image among several — the images of an archive or the platforms of an index, local
// or in a registry: by --platform, by --image (index, tag, name or digest), else linux/amd64 for a
// multi-platform index, else the first. Archives and registries share it, so they choose alike.
import { StrataError } from '../errors.ts';
import type { ImageSummary, Platform } from '../model.ts';

export interface ImageSelector { image?: string | number; platform?: string }

/** BuildKit's provenance / SBOM manifests in an index: not images, skipped with this reason. */
export const ATTESTATION_WHY = 'BuildKit attestation manifest (provenance / SBOM), not an image';

/** Whether an index entry (a descriptor) is a BuildKit attestation manifest. */
export function isAttestation(descriptor: Record<string, unknown>): boolean {
  const ann = (descriptor.annotations ?? {}) as Record<string, unknown>;
  return ann['vnd.docker.reference.type'] === 'attestation-manifest';
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
}

/** `os[/arch[/variant]]` as the CLI's --platform takes it; BAD_OPTION for anything else. */
export function parsePlatform(s: string): { os: string; architecture?: string; variant?: string } {
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new StrataError('BAD_OPTION', `--platform ${JSON.stringify(s)} is not os[/arch[/variant]] (e.g. linux/arm64/v8).`);
  }
  return { os: parts[0], ...(parts[1] ? { architecture: parts[1] } : {}), ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function describeImages(images: ImageSummary[]): string {
  return images.map((im) => `[${im.index}] ${im.name}${im.platform ? ` (${platformString(im.platform)})` : ''}`).join(', ');
}

/** The index (ImageSummary.index) of the image `sel` chooses; `name` names the source in messages. */
export function selectImage(images: ImageSummary[], sel: ImageSelector, name: string): number {
  let list = images;
  if (sel.platform) {
    const [os, arch, variant] = sel.platform.split('/');
    list = list.filter((im) => im.platform && im.platform.os === os && (!arch || im.platform.architecture === arch) && (!variant || im.platform.variant === variant));
    if (!list.length) throw new StrataError('IMAGE_NOT_FOUND', `${name} has no image for platform ${sel.platform}; it has: ${describeImages(images)}.`);
  }
  if (sel.image !== undefined && sel.image !== '') {
    const s = String(sel.image);
    const byIndex = /^\d+$/.test(s) ? list.filter((im) => im.index === Number(s)) : [];
    const byName = list.filter((im) => im.name === s || im.tags.includes(s) || im.tags.some((t) => t.endsWith('/' + s) || t.endsWith(':' + s)) || (s.startsWith('sha256:') && im.digest?.startsWith(s)));
    list = byIndex.length ? byIndex : byName;
    if (!list.length) throw new StrataError('IMAGE_NOT_FOUND', `${name} has no image "${s}"; it has: ${describeImages(images)}.`);
  }
  if (list.length === 1) return list[0].index;
  const platforms = new Set(list.map((im) => (im.platform ? platformString(im.platform) : '?')));
  const sameName = new Set(list.map((im) => im.name)).size === 1 || list.every((im) => !im.tags.length);
  if (platforms.size === list.length && !platforms.has('?') && sameName) {
    // a multi-platform index: linux/amd64 by default, else the first
    return defaultPlatform(list).index;
  }
  throw new StrataError('AMBIGUOUS_IMAGE', `${name} holds ${list.length} images: ${describeImages(list)}. Choose one (CLI: --image N or --image TAG).`);
}

/** linux/amd64 if the list has it, else its first entry. */
export function defaultPlatform<T extends { platform?: Platform }>(list: T[]): T {
  return list.find((im) => im.platform?.os === 'linux' && im.platform.architecture === 'amd64') ?? list[0];
}
