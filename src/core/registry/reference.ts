// Image references as docker and skopeo read them: `[scheme://][host[:port]/]repo[:tag][@digest]`,
// Docker Hub's short forms (`alpine` → docker.io/library/alpine:latest), and where the API is.
import { quoted, StrataError } from '../errors.ts';

export interface ImageReference {
  /** the registry as named, Docker Hub as "docker.io": "127.0.0.1:5000", "[::1]:5000", "ghcr.io" */
  registry: string;
  /** "library/alpine", "team/app" */
  repository: string;
  /** absent when only a digest was given */
  tag?: string;
  /** "sha256:<hex>"; wins over the tag when both are given, as docker does */
  digest?: string;
  /** plain http for loopback hosts (as docker does) or an explicit `http://`; https otherwise */
  scheme: 'http' | 'https';
  /** base URL of the API, without "/v2": "https://registry-1.docker.io" */
  endpoint: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

// the distribution reference grammar (distribution/reference, regexp.go), written out here
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/;

const bad = (input: string, why: string): StrataError =>
  new StrataError('BAD_REFERENCE', `${quoted(input, 200)} is not an image reference: ${why}. Expected [host[:port]/]repository[:tag][@sha256:…], e.g. alpine:3.20, ghcr.io/owner/app:v1, 127.0.0.1:5000/app@sha256:….`);

/** Loopback hosts are spoken to over plain http, as docker treats them as insecure registries. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return name === 'localhost' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

export function parseReference(input: string): ImageReference {
  let rest = input.trim();
  let scheme: 'http' | 'https' | undefined;
  const prefix = /^(docker|https?):\/\//i.exec(rest);
  if (prefix) {
    const p = prefix[1].toLowerCase();
    if (p !== 'docker') scheme = p as 'http' | 'https';
    rest = rest.slice(prefix[0].length);
  }
  if (!rest) throw bad(input, 'it is empty');
  if (/\s/.test(rest)) throw bad(input, 'it contains white space');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(input, `${quoted(digest, 100)} is not a digest (algorithm:hex)`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw bad(input, 'a sha256 digest is 64 lower-case hex digits');
  }
  // the first component names a registry when it looks like a host: a dot, a port, "localhost",
  // or upper case (repositories are lower case), as docker decides
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase() || first.startsWith('['))) {
    if (!HOST.test(first)) throw bad(input, `${quoted(first, 100)} is not a host name[:port]`);
    registry = first.toLowerCase();
    rest = rest.slice(slash + 1);
  } else if (scheme) {
    throw bad(input, `${scheme}:// needs a registry host before the repository`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(input, `${quoted(tag, 100)} is not a tag (letters, digits, _ . -, up to 128, not starting with . or -)`);
  }
  if (!rest) throw bad(input, 'it names no repository');
  if (!REPOSITORY.test(rest)) {
    const why = rest !== rest.toLowerCase() ? 'repository names are lower case' : `${quoted(rest, 100)} is not a repository name (lower-case letters, digits and . _ - separators, / between components)`;
    throw bad(input, why);
  }
  if (rest.length > 255) throw bad(input, 'the repository name is longer than 255 characters');
  if (registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  if (!tag && !digest) tag = 'latest';
  const s = scheme ?? (isLoopback(registry) ? 'http' : 'https');
  const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  return { registry, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), scheme: s, endpoint: `${s}://${host}` };
}

/** The reference in full ("docker.io/library/alpine:3.20"), http:// kept where it was forced. */
export function formatReference(r: ImageReference, withDigest = true): string {
  const forced = r.scheme === 'http' && !isLoopback(r.registry) ? 'http://' : '';
  return `${forced}${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${withDigest && r.digest ? `@${r.digest}` : ''}`;
}

/** The reference as people write it: Docker Hub's `library/` and host dropped ("alpine:3.20"). */
export function shortReference(r: ImageReference): string {
  const full = formatReference(r);
  return r.registry === DOCKER_HUB ? full.slice(DOCKER_HUB.length + 1).replace(/^library\//, '') : full;
}

/** The origin the API is reached at (what a page's connect-src must allow). */
export function registryOrigin(r: ImageReference): string {
  return r.endpoint;
}
