// What both SBOM writers derive from an input the same way: the checked records in scope and in a
// stable order, the image's identity (name, reference, digest, oci purl), licence classification,
// and identifiers that are unique per input yet identical for identical input.
import parseSpdxExpression, { type Info as SpdxInfo } from 'spdx-expression-parse';
import { Sha256 } from '../../sha256.ts';
import type { PackageRecord, SbomScope } from '../types.ts';
import type { SbomInput } from './index.ts';

export const SCOPES: readonly SbomScope[] = ['squashed', 'all-layers'];

/**
 * Checks what the types cannot (the input may come over a worker message) and returns the records
 * the scope asks for, sorted so that the output does not depend on the catalogers' order.
 * Throws RangeError: a broken input is a bug upstream, not something a user can act on.
 */
export function recordsInScope(input: SbomInput): PackageRecord[] {
  if (!SCOPES.includes(input.scope)) {
    throw new RangeError(`Unknown SBOM scope "${String(input.scope)}": expected "squashed" or "all-layers".`);
  }
  // getTime, not instanceof: a Date made in another realm (a worker, a vm context) is still a Date.
  if (typeof input.created?.getTime !== 'function' || Number.isNaN(input.created.getTime())) {
    throw new RangeError('SBOM creation time is not a valid Date.');
  }
  const layerCount = input.meta.layers.length;
  for (const p of input.packages) {
    const what = `package ${p.name}@${p.version} (${p.purl})`;
    if (!Number.isInteger(p.layer) || p.layer < 1 || p.layer > layerCount) {
      throw new RangeError(`${what} names layer ${p.layer}, but the image has ${layerCount ? `layers 1 to ${layerCount}` : 'no layers'}.`);
    }
    if (p.removedIn !== null && (!Number.isInteger(p.removedIn) || p.removedIn <= p.layer || p.removedIn > layerCount)) {
      throw new RangeError(`${what} was introduced in layer ${p.layer} and says it was removed in layer ${p.removedIn}, which is not a later layer of this image.`);
    }
  }
  const kept = input.scope === 'squashed' ? input.packages.filter((p) => p.removedIn === null) : [...input.packages];
  return kept.sort(compareRecords);
}

/** Code-unit order, not localeCompare: the same bytes in every runtime and locale. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRecords(a: PackageRecord, b: PackageRecord): number {
  return a.layer - b.layer
    || cmp(a.purl, b.purl)
    || cmp(a.locations.join('\n'), b.locations.join('\n'))
    || (a.removedIn ?? 0) - (b.removedIn ?? 0)
    || cmp(a.replacedBy ?? '', b.replacedBy ?? '')
    || cmp(a.name, b.name) || cmp(a.version, b.version)
    || cmp(a.license ?? '', b.license ?? '') || cmp(a.arch ?? '', b.arch ?? '')
    || cmp(a.ecosystem, b.ecosystem);
}

export interface ImageIdentity {
  /** for people: the repository as the first tag writes it ("alpine"), else the image's name */
  name: string;
  /** the repository in full ("docker.io/library/alpine"), when a tag names one */
  repository: string | null;
  tag: string | null;
  /** lowercase "<algorithm>:<hex>" */
  digest: string | null;
  /** pkg:oci/…, when both a repository and a digest are known */
  purl: string | null;
  tags: string[];
  platform: string | null;
}

export function imageIdentity(input: SbomInput): ImageIdentity {
  const { image, config } = input.meta;
  const ref = image.tags.length ? parseReference(image.tags[0]) : null;
  const digestText = (image.digest ?? ref?.digest ?? '').toLowerCase();
  const digest = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-z0-9=_-]+$/.test(digestText) ? digestText : null;
  const arch = image.platform?.architecture ?? config.architecture ?? null;
  const os = image.platform?.os ?? config.os ?? null;
  const variant = image.platform?.variant ?? config.variant ?? null;
  const repository = ref ? normalizeRepository(ref.repository) : null;
  let purl: string | null = null;
  if (repository && digest) {
    // purl spec, oci type: no namespace; the name is the repository's last path segment,
    // lowercased; version is the digest; qualifiers sorted by key.
    const q: [string, string | null][] = [['arch', arch], ['repository_url', repository], ['tag', ref?.tag ?? null]];
    const qs = q.filter((kv): kv is [string, string] => !!kv[1]).map(([k, v]) => `${k}=${purlEncode(v)}`);
    const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
    purl = `pkg:oci/${purlEncode(name)}@${purlEncode(digest)}${qs.length ? '?' + qs.join('&') : ''}`;
  }
  return {
    name: ref?.repository || image.name,
    repository,
    tag: ref?.tag ?? null,
    digest,
    purl,
    tags: [...image.tags],
    platform: os && arch ? [os, arch, variant].filter(Boolean).join('/') : null,
  };
}

/**
 * `[registry/]path[:tag][@digest]`, as Docker's RepoTags and containerd's image name write it. A
 * lone word is a tag: the OCI ref.name annotation is often only that ("latest", "stable-release"
 * in the image-layout spec), while RepoTags always carry a tag, so they never are one word.
 */
function parseReference(ref: string): { repository: string; tag: string | null; digest: string | null } {
  let rest = ref.trim();
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  if (at < 0 && !/[/:]/.test(rest)) return { repository: '', tag: rest || null, digest };
  const colon = rest.lastIndexOf(':');
  // a colon before the last slash is a registry port (localhost:5000/app), not a tag
  if (colon > rest.lastIndexOf('/')) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1) || null, digest };
  return { repository: rest, tag: null, digest };
}

/** Docker's normalisation: "alpine" is docker.io/library/alpine, "me/app" is docker.io/me/app. */
function normalizeRepository(repo: string): string | null {
  if (!repo) return null;
  const slash = repo.indexOf('/');
  const first = slash < 0 ? '' : repo.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return repo;
  return slash < 0 ? `docker.io/library/${repo}` : `docker.io/${repo}`;
}

const PURL_KEEP = /[A-Za-z0-9._~:-]/;
const utf8 = new TextEncoder();

/**
 * purl spec "Character encoding": everything but letters, digits, `.-_~` is percent-encoded as
 * UTF-8, except the colon, which must never be encoded. (So a repository_url's slashes are %2F.)
 */
export function purlEncode(s: string): string {
  let out = '';
  for (const ch of s) {
    if (PURL_KEEP.test(ch)) { out += ch; continue; }
    for (const b of utf8.encode(ch)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export type LicenceText =
  | { kind: 'spdx'; expression: string }
  | { kind: 'free'; text: string };

/**
 * A valid SPDX expression (rewritten with upper-case operators and only the parentheses it needs),
 * or free text. Expressions that name LicenseRef-/DocumentRef- count as free text: they point at
 * licence texts the input does not carry, which an SPDX document would have to define.
 */
export function classifyLicence(raw: string | null): LicenceText | null {
  const text = raw?.trim() ?? '';
  if (!text) return null;
  let info: SpdxInfo;
  try {
    info = parseSpdxExpression(text);
  } catch {
    return { kind: 'free', text };
  }
  const expression = renderExpression(info);
  return /\b(?:LicenseRef|DocumentRef)-/.test(expression) ? { kind: 'free', text } : { kind: 'spdx', expression };
}

function renderExpression(info: SpdxInfo, parent: 'and' | 'or' | null = null): string {
  if ('license' in info) return info.license + (info.plus ? '+' : '') + (info.exception ? ` WITH ${info.exception}` : '');
  const s = `${renderExpression(info.left, info.conjunction)} ${info.conjunction.toUpperCase()} ${renderExpression(info.right, info.conjunction)}`;
  // AND binds tighter than OR, so only an OR inside an AND needs parentheses
  return parent === 'and' && info.conjunction === 'or' ? `(${s})` : s;
}

/**
 * A UUID named by `parts`: SHA-256 of their JSON, laid out as RFC 9562's version 8 (the RFC's
 * own example of a name-based UUID with SHA-256; version 5 would need SHA-1).
 */
export function nameBasedUuid(parts: unknown): string {
  const b = new Sha256().update(utf8.encode(JSON.stringify(parts))).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Everything an SBOM says, in a fixed shape: what the document identifiers are named by. */
export function fingerprint(format: string, input: SbomInput, records: PackageRecord[]): unknown {
  return [
    format, input.toolVersion, input.created.toISOString(), input.scope,
    input.meta.image.name, imageIdentity(input),
    input.meta.layers.map((l) => l.diffId ?? null),
    input.distro ? [input.distro.id, input.distro.versionId, input.distro.prettyName] : null,
    records.map((p) => [p.ecosystem, p.name, p.version, p.arch, p.license, p.purl, p.locations, p.layer, p.removedIn, p.replacedBy]),
  ];
}

/** The layer's diff_id: what names its content wherever the image is stored or pushed. */
export function layerDiffId(input: SbomInput, layer: number): string | null {
  return input.meta.layers[layer - 1]?.diffId ?? null;
}

/** A file-name stem from the image name: runs of anything but `A-Za-z0-9._-` become one dash. */
export function fileStem(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '').slice(0, 100).replace(/[.-]+$/, '');
  return s || 'image';
}
