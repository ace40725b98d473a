// An OCI distribution client over fetch, for one repository: authentication (anonymous or basic
// credentials, answered with a bearer token when the registry asks for one), manifests and blobs,
// every byte checked against its digest while it streams, an interrupted blob resumed with Range.
import { brief, quoted, StrataError } from '../errors.ts';
import type { Hasher } from '../env.ts';
import type { Platform } from '../model.ts';
import { basicAuthorization, parseChallenges, type Challenge, type Credentials } from './auth.ts';
import { retryAdvice } from './messages.ts';
import type { ImageReference } from './reference.ts';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;
/** The Accept header of a manifest request: indexes and image manifests, OCI and Docker schema 2. */
export const MANIFEST_ACCEPT = MANIFEST_TYPES.join(', ');

/** Manifests are small; a larger answer is not one (distribution refuses to store more than 4 MiB). */
const MANIFEST_LIMIT = 4 << 20;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Manifest {
  /** the bytes as served (their sha256 is `digest`) */
  bytes: Uint8Array;
  json: Record<string, unknown>;
  mediaType: string;
  digest: string;
}

export interface RegistryOptions {
  fetch?: typeof fetch;
  sha256: () => Hasher;
  credentials?: Credentials;
  /** what the 401 message says to do (the CLI: --creds; the page: its credentials form) */
  credentialsHint?: string;
  /**
   * The error for a request that failed without an answer (fetch threw). The page asks whether
   * the server answers at all, to tell a CORS refusal from an unreachable host; the default
   * names the cause Node gives (ECONNREFUSED, a TLS error…).
   */
  explainFailure?: (url: string, err: unknown, signal?: AbortSignal) => Promise<StrataError>;
  /** extra request headers (the CLI's User-Agent) */
  headers?: Record<string, string>;
  /** how many times an interrupted blob download is resumed (default 3) */
  resumes?: number;
}

type Kind = 'manifest' | 'blob' | 'check';

const aborted = () => new StrataError('ABORTED', 'The operation was cancelled.');

export class RegistryClient {
  readonly ref: ImageReference;
  /** how messages name the image: the reference as the user wrote it */
  readonly name: string;
  readonly #o: RegistryOptions;
  readonly #fetch: typeof fetch;
  /** the Authorization header in use; a bearer token is kept for the session of this client */
  #authorization: string | undefined;

  constructor(ref: ImageReference, name: string, opts: RegistryOptions) {
    this.ref = ref;
    this.name = name;
    this.#o = opts;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  #url(path: string): string {
    return `${this.ref.endpoint}/v2/${this.ref.repository}/${path}`;
  }

  /** fetch, with a failure without an answer turned into a StrataError */
  async #raw(url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    if (signal?.aborted) throw aborted();
    try {
      return await this.#fetch(url, { ...init, signal, redirect: 'follow', credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      if (signal?.aborted) throw aborted();
      if (this.#o.explainFailure) throw await this.#o.explainFailure(url, e, signal);
      throw unreachable(this.name, url, e);
    }
  }

  /**
   * One request, authenticated as the registry asks: on a 401 the challenge is answered (a bearer
   * token fetched, or basic credentials sent) and the request sent again, once per way.
   */
  async #send(url: string, init: { accept?: string; from?: number }, signal?: AbortSignal): Promise<Response> {
    const tried = new Set<string>();
    for (;;) {
      const headers: Record<string, string> = { ...this.#o.headers };
      if (init.accept) headers.Accept = init.accept;
      if (init.from) headers.Range = `bytes=${init.from}-`;
      if (this.#authorization) headers.Authorization = this.#authorization;
      const res = await this.#raw(url, { headers }, signal);
      if (res.status !== 401 || !(await this.#authenticate(res, tried, signal))) return res;
      await res.body?.cancel().catch(() => {});
    }
  }

  /** Learns from a 401 how to authenticate; false when there is nothing new to try. */
  async #authenticate(res: Response, tried: Set<string>, signal?: AbortSignal): Promise<boolean> {
    const challenges = parseChallenges(res.headers.get('www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const creds = this.#o.credentials;
    if (bearer) {
      if (tried.has('bearer')) return false;
      tried.add('bearer');
      this.#authorization = `Bearer ${await this.#token(bearer, signal)}`;
      return true;
    }
    // Basic, or a challenge the page cannot read (not in Access-Control-Expose-Headers): send the
    // credentials if there are any
    if (!creds || tried.has('basic') || (challenges.length && !challenges.some((c) => c.scheme === 'basic'))) return false;
    tried.add('basic');
    this.#authorization = basicAuthorization(creds);
    return true;
  }

  /** A bearer token from the realm a challenge names (docker's token protocol, GET form). */
  async #token(ch: Challenge, signal?: AbortSignal): Promise<string> {
    const realm = ch.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new StrataError('REGISTRY_ERROR', `${this.name}: the registry asks for a bearer token but names no usable token service (realm ${quoted(realm ?? 'missing', 120)}).`);
    }
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    // the challenge's scope (space-separated list) or, when it gives none, pull on this repository
    for (const s of (ch.params.scope ?? `repository:${this.ref.repository}:pull`).split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const creds = this.#o.credentials;
    const headers: Record<string, string> = { ...this.#o.headers };
    if (creds) {
      if (url.protocol === 'http:' && this.ref.scheme === 'https') {
        throw new StrataError('REGISTRY_ERROR', `${this.name}: the registry's token service ${url.origin} is plain http; the credentials are not sent over it. Ask the registry's operator to serve it over https.`);
      }
      headers.Authorization = basicAuthorization(creds);
    }
    const service = `the token service ${url.origin}`;
    const res = await this.#raw(url.href, { headers }, signal);
    if (!res.ok) {
      const body = await errorBody(res);
      if (res.status === 401 || res.status === 403) {
        throw new StrataError('REGISTRY_UNAUTHORIZED', creds
          ? `${this.name}: ${service} refused the credentials of user ${quoted(creds.username, 80)} (${res.status} ${statusText(res)})${body.detail}. Check the user name and password.`
          : `${this.name}: ${service} gives no anonymous access (${res.status} ${statusText(res)})${body.detail}. ${this.#o.credentialsHint ?? 'Give a user name and password.'}`);
      }
      if (res.status === 429) throw this.#rateLimited(res, service);
      throw new StrataError('REGISTRY_ERROR', `${this.name}: ${service} answered ${res.status} ${statusText(res)}${body.detail}${res.status >= 500 ? '; try again later' : ''}.`);
    }
    const json = await readJsonObject(res, `${this.name}: the answer of ${service}`, 1 << 20);
    const token = typeof json.token === 'string' ? json.token : typeof json.access_token === 'string' ? json.access_token : '';
    if (!token) throw new StrataError('REGISTRY_ERROR', `${this.name}: ${service} answered without a token.`);
    return token;
  }

  #rateLimited(res: Response, who: string): StrataError {
    return new StrataError('REGISTRY_RATE_LIMITED', `${this.name}: ${who} limits how often it may be asked, and the limit is reached (429 Too Many Requests): ${retryAdvice(res.headers)}.`);
  }

  /** The error for an answer that is not a success, named after what was asked for. */
  async #statusError(res: Response, kind: Kind, what: string): Promise<StrataError> {
    const body = await errorBody(res);
    const creds = this.#o.credentials;
    const status = `${res.status} ${statusText(res)}`;
    const registry = this.ref.registry;
    switch (res.status) {
      case 401:
        return new StrataError('REGISTRY_UNAUTHORIZED', creds
          ? `${this.name}: ${registry} refused the credentials of user ${quoted(creds.username, 80)} for ${this.ref.repository} (${status})${body.detail}. Check the user name and password, and that this user may pull it.`
          : `${this.name}: ${registry} needs credentials to pull ${this.ref.repository}, or it has no such repository (${status})${body.detail}. ${this.#o.credentialsHint ?? 'Give a user name and password.'}`);
      case 403:
        return new StrataError('REGISTRY_DENIED', `${this.name}: ${registry} denied access to ${this.ref.repository}${creds ? ` for user ${quoted(creds.username, 80)}` : ''} (${status})${body.detail}.${creds ? ' The credentials were accepted, but this user may not pull it.' : ''}`);
      case 404: {
        const code = body.code;
        const why = code === 'NAME_UNKNOWN' ? `${registry} has no repository ${quoted(this.ref.repository, 120)}`
          : kind === 'manifest' ? `${registry}/${this.ref.repository} has no ${what}`
          : kind === 'blob' ? `${registry}/${this.ref.repository} is missing ${what}: the image is incomplete in the registry`
          : `${registry} answered 404 for ${what}`;
        return new StrataError('REGISTRY_NOT_FOUND', `${this.name}: ${why} (${status}${code ? `, ${code}` : ''}).`);
      }
      case 429: return this.#rateLimited(res, registry);
      default:
        return new StrataError('REGISTRY_ERROR', `${this.name}: ${registry} answered ${status} for ${what}${body.detail}${res.status >= 500 ? '; try again later' : ''}.`);
    }
  }

  /**
   * The manifest (or index) a tag or digest names, its bytes checked against the digest asked for
   * (or the descriptor's, or the registry's Docker-Content-Digest).
   */
  async manifest(reference: string, signal?: AbortSignal, expected?: Descriptor): Promise<Manifest> {
    const byDigest = reference.includes(':');
    const what = byDigest ? `manifest ${reference}` : `tag ${quoted(reference, 140)}`;
    const want = expected?.digest ?? (byDigest ? reference : undefined);
    if (want && !want.startsWith('sha256:')) {
      throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what} is named by a ${brief(want.split(':')[0])} digest; Strata checks sha256 digests only.`);
    }
    const res = await this.#send(this.#url(`manifests/${reference}`), { accept: MANIFEST_ACCEPT }, signal);
    if (!res.ok) throw await this.#statusError(res, 'manifest', what);
    const bytes = await readLimited(res, MANIFEST_LIMIT, `${this.name}: ${what}`, signal);
    const h = this.#o.sha256();
    h.update(bytes);
    const digest = h.digest();
    const header = res.headers.get('docker-content-digest');
    for (const [claim, source] of [[want, 'the digest asked for'], [header?.startsWith('sha256:') ? header : undefined, 'the registry\'s Docker-Content-Digest']] as const) {
      if (claim && claim !== digest) {
        throw new StrataError('DIGEST_MISMATCH', `${this.name}: ${what} hashes to ${digest}, not ${brief(claim)} (${source}). The registry, or something between it and here, served other bytes; nothing was stored.`);
      }
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what} is not valid JSON (${e instanceof Error ? e.message : String(e)}).`, { cause: e });
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what} is not a JSON object.`);
    const m = json as Record<string, unknown>;
    const mediaType = typeof m.mediaType === 'string' ? m.mediaType : (res.headers.get('content-type') ?? '').split(';')[0].trim();
    if (m.schemaVersion === 1 || /^application\/vnd\.docker\.distribution\.manifest\.v1\+/.test(mediaType)) {
      throw new StrataError('NOT_AN_IMAGE', `${this.name}: ${what} is a Docker schema 1 manifest, a format registries stopped serving in 2017; Strata reads schema 2 and OCI. Push the image again with a current tool.`);
    }
    return { bytes, json: m, mediaType, digest };
  }

  /**
   * Streams a blob into `write`, hashing it on the way; the digest and size must match `desc`.
   * A connection cut short is resumed from the last byte with `Range` (up to `resumes` times);
   * when the server answers a range with the whole blob, `restart` drops what was written (the
   * hash restarts too) and the new answer is read from its start.
   */
  async blob(desc: Descriptor, what: string, write: (chunk: Uint8Array) => void | Promise<void>,
    opts: { signal?: AbortSignal; onProgress?: (received: number) => void; restart?: () => Promise<void> } = {}): Promise<void> {
    const { signal } = opts;
    if (!/^sha256:[a-f0-9]{64}$/.test(desc.digest)) {
      throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what} is named by digest ${quoted(desc.digest, 100)}; Strata checks sha256 digests only.`);
    }
    const maxResumes = this.#o.resumes ?? 3;
    let hasher = this.#o.sha256();
    let received = 0;
    let resumes = 0;
    const url = this.#url(`blobs/${desc.digest}`);
    for (;;) {
      const res = await this.#send(url, { from: received }, signal);
      if (!res.ok) throw await this.#statusError(res, 'blob', what);
      if (received > 0) {
        const range = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        if (res.status !== 206 || (range && Number(range[1]) !== received)) {
          // the server sent the blob from its start (or from elsewhere): begin again
          if (!opts.restart || res.status !== 200) {
            await res.body?.cancel().catch(() => {});
            throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what}: the download broke off after ${received} of ${desc.size} bytes and the registry cannot resume it (it answered ${res.status} to a Range request). Try again.`);
          }
          await opts.restart();
          hasher = this.#o.sha256();
          received = 0;
          opts.onProgress?.(0);
        }
      }
      if (!res.body) throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what}: the registry's answer has no body.`);
      const reader = res.body.getReader();
      let cut: unknown = null;
      try {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (e) {
            cut = e;
            break;
          }
          if (chunk.done) break;
          const value = chunk.value;
          if (received + value.length > desc.size) {
            throw new StrataError('DIGEST_MISMATCH', `${this.name}: ${what} is longer than the ${desc.size} bytes its descriptor says. The registry served other bytes; nothing was stored.`);
          }
          hasher.update(value);
          received += value.length;
          await write(value);
          opts.onProgress?.(received);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      if (signal?.aborted) throw aborted();
      if (received === desc.size) break;
      if (resumes++ >= maxResumes) {
        const why = cut instanceof Error ? ` (${cut.message})` : '';
        throw new StrataError('REGISTRY_UNREACHABLE', `${this.name}: ${what}: the connection broke off after ${received} of ${desc.size} bytes${why}, and ${maxResumes} attempts to resume it failed. Check the connection and try again.`, { cause: cut ?? undefined });
      }
    }
    const got = hasher.digest();
    if (got !== desc.digest) {
      throw new StrataError('DIGEST_MISMATCH', `${this.name}: ${what} hashes to ${got}, not ${desc.digest} as the manifest says. The registry, or something between it and here, served corrupt bytes; nothing was stored.`);
    }
  }

  /** A small blob (the config) in memory, verified. */
  async blobBytes(desc: Descriptor, what: string, limit: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (desc.size > limit) throw new StrataError('REGISTRY_ERROR', `${this.name}: ${what} is ${desc.size} bytes, too large to be what it claims.`);
    const out = new Uint8Array(desc.size);
    let fill = 0;
    await this.blob(desc, what, (c) => { out.set(c, fill); fill += c.length; }, { signal, restart: async () => { fill = 0; } });
    return out;
  }
}

const statusText = (res: Response) => res.statusText || HTTP_TEXT[res.status] || 'error';
const HTTP_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** The distribution error body ({"errors":[{code, message}]}), as a code and a short detail. */
async function errorBody(res: Response): Promise<{ code?: string; detail: string }> {
  let text = '';
  try {
    text = (await res.text()).slice(0, 16 << 10);
  } catch { /* no body */ }
  try {
    const e = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    if (e && typeof e.code === 'string') {
      const msg = typeof e.message === 'string' && e.message ? `: ${brief(e.message, 160)}` : '';
      return { code: e.code, detail: ` — ${e.code.toLowerCase().replace(/_/g, ' ')}${msg}` };
    }
  } catch { /* not JSON */ }
  return { detail: '' };
}

async function readLimited(res: Response, limit: number, what: string, signal?: AbortSignal): Promise<Uint8Array> {
  const length = Number(res.headers.get('content-length'));
  if (length > limit) {
    await res.body?.cancel().catch(() => {});
    throw new StrataError('REGISTRY_ERROR', `${what} is ${length} bytes: too large to be a manifest.`);
  }
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > limit) throw new StrataError('REGISTRY_ERROR', `${what} is more than ${limit} bytes: too large to be a manifest.`);
      parts.push(value);
    }
  } catch (e) {
    if (signal?.aborted) throw aborted();
    if (e instanceof StrataError) throw e;
    throw new StrataError('REGISTRY_UNREACHABLE', `${what}: the connection broke off (${e instanceof Error ? e.message : String(e)}). Try again.`, { cause: e });
  } finally {
    reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

async function readJsonObject(res: Response, what: string, limit: number): Promise<Record<string, unknown>> {
  const bytes = await readLimited(res, limit, what);
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* below */ }
  throw new StrataError('REGISTRY_ERROR', `${what} is not a JSON object.`);
}

/** A request that got no answer at all, with what Node says of the cause (refused, DNS, TLS…). */
export function unreachable(name: string, url: string, err: unknown): StrataError {
  const origin = new URL(url).origin;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const detail = code || (typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err));
  const tls = /SSL|TLS|EPROTO|CERT/i.test(`${code} ${typeof cause?.message === 'string' ? cause.message : ''}`);
  const hint = tls && origin.startsWith('https:')
    ? ' If the registry serves plain http, write the reference as http://HOST/REPO; if its certificate is self-signed, trust its CA (NODE_EXTRA_CA_CERTS for the CLI).'
    : ' Check the host name, the port and the network.';
  return new StrataError('REGISTRY_UNREACHABLE', `${name}: could not connect to ${origin} (${brief(detail, 200)}).${hint}`, { cause: err });
}
