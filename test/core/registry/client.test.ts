// The distribution client over a scripted fetch: the paths a real registry (test/cli/registry.test.ts)
// does not take on its own — challenge forms, token answers, manifest oddities, broken blobs.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { jsSha256, blobSpool } from '../../../src/core/env.ts';
import { StrataError } from '../../../src/core/errors.ts';
import { basicAuthorization, parseChallenges, parseCredentials } from '../../../src/core/registry/auth.ts';
import { MANIFEST_ACCEPT, RegistryClient, unreachable, type RegistryOptions } from '../../../src/core/registry/client.ts';
import { openRegistry, pullLayers } from '../../../src/core/registry/image.ts';
import { corsAdvice, retryAdvice, saveCommand } from '../../../src/core/registry/messages.ts';
import { parseReference } from '../../../src/core/registry/reference.ts';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = (s: string) => new TextEncoder().encode(s);

interface Seen { url: string; headers: Record<string, string> }
type Route = (url: URL, headers: Record<string, string>, n: number) => Response | Promise<Response>;

/** A fetch that answers from `routes` (by path, or absolute URL) and records every request. */
function fakeFetch(routes: Record<string, Route>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const counts = new Map<string, number>();
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    seen.push({ url: url.href, headers });
    const key = routes[url.href.split('?')[0]] ? url.href.split('?')[0] : url.pathname;
    const route = routes[key];
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (!route) return new Response('{"errors":[{"code":"NAME_UNKNOWN","message":"nope"}]}', { status: 404 });
    return route(url, headers, n);
  }) as typeof fetch;
  return { fetch: f, seen };
}

const json = (v: unknown, init: ResponseInit = {}) => new Response(JSON.stringify(v), { ...init, headers: { 'Content-Type': 'application/json', ...(init.headers ?? {}) } });

function client(routes: Record<string, Route>, opts: Partial<RegistryOptions> = {}, ref = 'reg.example/team/app:v1') {
  const f = fakeFetch(routes);
  return { c: new RegistryClient(parseReference(ref), ref, { sha256: jsSha256, fetch: f.fetch, ...opts }), seen: f.seen };
}

async function error(p: Promise<unknown>): Promise<StrataError> {
  try { await p; } catch (e) { if (e instanceof StrataError) return e; throw e; }
  throw new Error('expected an error');
}

const MANIFEST = enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] }));

describe('WWW-Authenticate and credentials', () => {
  test.each([
    ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }]],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    ['Basic realm="a, b", Bearer realm="https://x/t",error="insufficient_scope"',
      [{ scheme: 'basic', params: { realm: 'a, b' } }, { scheme: 'bearer', params: { realm: 'https://x/t', error: 'insufficient_scope' } }]],
    ['bearer Realm=https://x/t , Service=reg', [{ scheme: 'bearer', params: { realm: 'https://x/t', service: 'reg' } }]],
    ['Bearer realm="quo\\"ted"', [{ scheme: 'bearer', params: { realm: 'quo"ted' } }]],
    ['', []],
    [null, []],
  ])('%j', (header, want) => {
    expect(parseChallenges(header)).toEqual(want);
  });

  test.each([
    ['user:pass', { username: 'user', password: 'pass' }],
    ['user:pa:ss', { username: 'user', password: 'pa:ss' }],
    ['user:', { username: 'user', password: '' }],
    ['user', null], [':pass', null], ['', null],
  ])('parseCredentials(%j)', (s, want) => {
    expect(parseCredentials(s)).toEqual(want);
  });

  test('basic credentials are UTF-8, base64', () => {
    expect(basicAuthorization({ username: 'jürgen', password: 'pä:ss' })).toBe(`Basic ${Buffer.from('jürgen:pä:ss').toString('base64')}`);
  });
});

describe('retry advice for 429', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  const now = Date.parse('2026-01-01T12:00:00Z');
  test.each([
    [{ 'Retry-After': '30' }, 'try again in 30 s (Retry-After)'],
    [{ 'Retry-After': '3600' }, 'try again in 60 min (Retry-After)'],
    [{ 'Retry-After': 'Thu, 01 Jan 2026 15:00:00 GMT' }, 'try again in 3 h (Retry-After)'],
    [{ 'RateLimit-Reset': '90' }, 'try again in 2 min (the rate limit resets then)'],
    [{ 'X-RateLimit-Reset': String(now / 1000 + 45) }, 'try again in 45 s (the rate limit resets then)'],
    [{ 'RateLimit-Limit': '100;w=21600' }, 'the limit is 100 requests per 6 h; try again later, or sign in (a user\'s limit is higher)'],
    [{}, 'wait a while and try again'],
  ])('%j', (headers, want) => {
    expect(retryAdvice(h(headers), now)).toBe(want);
  });
});

describe('manifests', () => {
  test('the Accept list names OCI indexes and manifests and Docker lists and schema 2, nothing else', async () => {
    const { c, seen } = client({ '/v2/team/app/manifests/v1': () => new Response(MANIFEST) });
    const m = await c.manifest('v1');
    expect(seen[0].headers.accept).toBe(MANIFEST_ACCEPT);
    expect(MANIFEST_ACCEPT.split(', ')).toEqual([
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(m.digest).toBe(sha(MANIFEST));
    expect(seen[0].url).toBe('https://reg.example/v2/team/app/manifests/v1');
  });

  test.each([
    ['Docker-Content-Digest differs', () => new Response(MANIFEST, { headers: { 'Docker-Content-Digest': sha('other') } }), 'DIGEST_MISMATCH', /\(the registry's Docker-Content-Digest\)/],
    ['schema 1', () => json({ schemaVersion: 1, name: 'x', fsLayers: [] }), 'NOT_AN_IMAGE', /Docker schema 1 manifest/],
    ['schema 1 by media type', () => new Response('{}', { headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' } }), 'NOT_AN_IMAGE', /schema 1/],
    ['not JSON', () => new Response('<html>proxy error</html>'), 'REGISTRY_ERROR', /tag "v1" is not valid JSON/],
    ['a JSON array', () => json([1]), 'REGISTRY_ERROR', /is not a JSON object/],
    ['too large (Content-Length)', () => new Response('x', { headers: { 'Content-Length': String(5 << 20) } }), 'REGISTRY_ERROR', /too large to be a manifest/],
    ['too large (streamed)', () => new Response(new Uint8Array(5 << 20)), 'REGISTRY_ERROR', /more than 4194304 bytes/],
    ['500', () => new Response('boom', { status: 500, statusText: 'Internal Server Error' }), 'REGISTRY_ERROR', /answered 500 Internal Server Error for tag "v1"; try again later/],
  ])('%s', async (_what, answer, code, message) => {
    const { c } = client({ '/v2/team/app/manifests/v1': answer });
    const e = await error(c.manifest('v1'));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^reg\.example\/team\/app:v1: /);
  });

  test('by digest: the bytes must hash to it; a descriptor\'s digest likewise', async () => {
    const d = sha(MANIFEST);
    const { c } = client({ [`/v2/team/app/manifests/${d}`]: () => new Response(MANIFEST) });
    expect((await c.manifest(d)).digest).toBe(d);
    const other = sha('x');
    const { c: c2 } = client({ [`/v2/team/app/manifests/${other}`]: () => new Response(MANIFEST) });
    const e = await error(c2.manifest(other));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toBe(`reg.example/team/app:v1: manifest ${other} hashes to ${d}, not ${other} (the digest asked for). The registry, or something between it and here, served other bytes; nothing was stored.`);
  });
});

describe('authentication', () => {
  const ok = () => new Response(MANIFEST);
  const bearer = (realm = 'https://auth.example/token') => new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
    status: 401, headers: { 'WWW-Authenticate': `Bearer realm="${realm}",service="reg",scope="repository:team/app:pull"` },
  });

  test('a bearer challenge: an anonymous token, then the request again with it', async () => {
    const { c, seen } = client({
      '/v2/team/app/manifests/v1': (_u, h) => (h.authorization === 'Bearer T1' ? ok() : bearer()),
      'https://auth.example/token': () => json({ token: 'T1', expires_in: 300 }),
    });
    await c.manifest('v1');
    expect(seen.map((s) => s.url)).toEqual([
      'https://reg.example/v2/team/app/manifests/v1',
      'https://auth.example/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull',
      'https://reg.example/v2/team/app/manifests/v1',
    ]);
    expect(seen[1].headers.authorization).toBeUndefined();
  });

  test('with credentials, the token service gets them as basic auth; an access_token answer works too', async () => {
    const { c, seen } = client({
      '/v2/team/app/manifests/v1': (_u, h) => (h.authorization === 'Bearer T2' ? ok() : bearer()),
      'https://auth.example/token': (_u, h) => (h.authorization === basicAuthorization({ username: 'u', password: 'p' }) ? json({ access_token: 'T2' }) : new Response('', { status: 401 })),
    }, { credentials: { username: 'u', password: 'p' } });
    await c.manifest('v1');
    expect(seen[1].headers.authorization).toBe(`Basic ${btoa('u:p')}`);
  });

  test('a token is kept; an expired one is fetched again, once a request; one refused twice is a 401', async () => {
    let accepted = 'T1', issued = 0;
    const { c, seen } = client({
      '/v2/team/app/manifests/v1': (_u, h) => (h.authorization === `Bearer ${accepted}` ? ok() : bearer()),
      'https://auth.example/token': () => json({ token: `T${++issued}` }),
    });
    const tokenRequests = () => seen.filter((s) => s.url.startsWith('https://auth.example')).length;
    await c.manifest('v1');
    await c.manifest('v1');
    expect(tokenRequests()).toBe(1);
    accepted = 'T2'; // T1 expired
    await c.manifest('v1');
    expect(tokenRequests()).toBe(2);
    accepted = 'never';
    const e = await error(c.manifest('v1'));
    expect(e.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(tokenRequests()).toBe(3);
  });

  test('a basic challenge: credentials sent once; without any, the hint says how to give them', async () => {
    const basicOnly: Route = (_u, h) => (h.authorization === basicAuthorization({ username: 'u', password: 'right' }) ? ok()
      : new Response('', { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="r"' } }));
    const none = await error(client({ '/v2/team/app/manifests/v1': basicOnly }, { credentialsHint: 'Pass --creds.' }).c.manifest('v1'));
    expect(none.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(none.message).toBe('reg.example/team/app:v1: reg.example needs credentials to pull team/app, or it has no such repository (401 Unauthorized). Pass --creds.');
    const { c: good, seen } = client({ '/v2/team/app/manifests/v1': basicOnly }, { credentials: { username: 'u', password: 'right' } });
    await good.manifest('v1');
    expect(seen).toHaveLength(2);
    const wrong = await error(client({ '/v2/team/app/manifests/v1': basicOnly }, { credentials: { username: 'u', password: 'hunter2' } }).c.manifest('v1'));
    expect(wrong.message).toMatch(/refused the credentials of user "u"/);
    expect(wrong.message).not.toContain('hunter2');
  });

  test('a 401 whose challenge the page cannot read (CORS does not expose it): credentials sent as basic', async () => {
    const { c, seen } = client({
      '/v2/team/app/manifests/v1': (_u, h) => (h.authorization?.startsWith('Basic ') ? ok() : new Response('', { status: 401 })),
    }, { credentials: { username: 'u', password: 'p' } });
    await c.manifest('v1');
    expect(seen).toHaveLength(2);
  });

  test.each([
    ['no realm', 'Bearer service="reg"', /names no usable token service \(realm "missing"\)/],
    ['a realm that is no URL', 'Bearer realm="/token"', /names no usable token service \(realm "\/token"\)/],
    ['a realm in another scheme', 'Bearer realm="ftp://x/t"', /names no usable token service/],
  ])('a bearer challenge with %s', async (_w, header, message) => {
    const e = await error(client({ '/v2/team/app/manifests/v1': () => new Response('', { status: 401, headers: { 'WWW-Authenticate': header } }) }).c.manifest('v1'));
    expect(e.code).toBe('REGISTRY_ERROR');
    expect(e.message).toMatch(message);
  });

  test.each([
    ['refuses anonymous', {}, () => new Response('', { status: 401 }), 'REGISTRY_UNAUTHORIZED', /the token service https:\/\/auth\.example gives no anonymous access \(401 Unauthorized\)\. Enter them\./],
    ['refuses the credentials', { credentials: { username: 'u', password: 'sekret' } }, () => new Response('', { status: 403 }), 'REGISTRY_UNAUTHORIZED', /refused the credentials of user "u" \(403 Forbidden\)/],
    ['is rate limited', {}, () => new Response('', { status: 429, headers: { 'Retry-After': '5' } }), 'REGISTRY_RATE_LIMITED', /the token service https:\/\/auth\.example limits .* try again in 5 s/],
    ['fails', {}, () => new Response('', { status: 502 }), 'REGISTRY_ERROR', /answered 502 Bad Gateway; try again later/],
    ['answers no token', {}, () => json({ nothing: true }), 'REGISTRY_ERROR', /answered without a token/],
    ['answers no JSON', {}, () => new Response('<html>'), 'REGISTRY_ERROR', /is not a JSON object/],
  ])('the token service %s', async (_w, opts, answer, code, message) => {
    const e = await error(client({ '/v2/team/app/manifests/v1': () => bearer(), 'https://auth.example/token': answer }, { credentialsHint: 'Enter them.', ...opts }).c.manifest('v1'));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('sekret');
  });

  test('credentials are never sent to a plain-http token service of an https registry', async () => {
    const { c, seen } = client({ '/v2/team/app/manifests/v1': () => bearer('http://auth.example/token') }, { credentials: { username: 'u', password: 'p' } });
    const e = await error(c.manifest('v1'));
    expect(e.message).toMatch(/token service http:\/\/auth\.example is plain http; the credentials are not sent over it/);
    expect(seen.filter((s) => s.url.startsWith('http://auth.example'))).toEqual([]);
  });
});

describe('blobs', () => {
  const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(data), size: data.length };
  const path = `/v2/team/app/blobs/${desc.digest}`;
  const collect = async (c: RegistryClient, d = desc) => {
    const parts: Uint8Array[] = [];
    await c.blob(d, 'layer 1', (x) => { parts.push(x.slice()); }, { restart: async () => { parts.length = 0; } });
    return Buffer.concat(parts);
  };
  /** a body that sends `n` bytes then fails, as a cut connection does */
  const cutBody = (bytes: Uint8Array, n: number) => {
    let sent = false;
    return new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (!sent) { sent = true; ctl.enqueue(bytes.slice(0, n)); } else ctl.error(new TypeError('network error'));
      },
    });
  };

  test('a cut connection is resumed from the byte it stopped at', async () => {
    const { c, seen } = client({
      [path]: (_u, h, n) => (n === 1 ? new Response(cutBody(data, 100_000)) : new Response(data.slice(100_000), { status: 206, headers: { 'Content-Range': `bytes 100000-299999/300000` } })),
    });
    expect(Buffer.compare(await collect(c), Buffer.from(data))).toBe(0);
    expect(seen[1].headers.range).toBe('bytes=100000-');
  });

  test('a body that ends early without an error is resumed too', async () => {
    const { c } = client({
      [path]: (_u, h, n) => (n === 1 ? new Response(data.slice(0, 5000)) : new Response(data.slice(5000), { status: 206 })),
    });
    expect((await collect(c)).length).toBe(data.length);
  });

  test('a server that answers the Range request with 200: the download restarts, written bytes dropped', async () => {
    const { c } = client({ [path]: (_u, _h, n) => (n === 1 ? new Response(cutBody(data, 1000)) : new Response(data)) });
    expect(Buffer.compare(await collect(c), Buffer.from(data))).toBe(0);
  });

  test('a 206 from another offset cannot be resumed', async () => {
    const { c } = client({ [path]: (_u, _h, n) => (n === 1 ? new Response(cutBody(data, 1000)) : new Response(data.slice(10), { status: 206, headers: { 'Content-Range': 'bytes 10-299999/300000' } })) });
    const e = await error(collect(c));
    expect(e.message).toMatch(/the download broke off after 1000 of 300000 bytes and the registry cannot resume it \(it answered 206 to a Range request\)/);
  });

  test('more bytes than the descriptor says: refused before they are written', async () => {
    const { c } = client({ [path]: () => new Response(new Uint8Array(data.length + 1)) });
    const e = await error(collect(c));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toMatch(/layer 1 is longer than the 300000 bytes its descriptor says/);
  });

  test('other bytes of the same length: DIGEST_MISMATCH naming both digests', async () => {
    const bad = data.slice();
    bad[5] ^= 1;
    const e = await error(collect(client({ [path]: () => new Response(bad) }).c));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toBe(`reg.example/team/app:v1: layer 1 hashes to ${sha(bad)}, not ${desc.digest} as the manifest says. The registry, or something between it and here, served corrupt bytes; nothing was stored.`);
  });

  test('a digest that is not sha256 is refused before any request', async () => {
    const { c, seen } = client({});
    const e = await error(collect(c, { ...desc, digest: 'sha512:' + 'a'.repeat(128) }));
    expect(e.message).toMatch(/is named by digest "sha512:a+…a+"; Strata checks sha256 digests only/);
    expect(seen).toEqual([]);
  });

  test('cancelled: ABORTED, not a resume', async () => {
    const ctl = new AbortController();
    const { c } = client({ [path]: () => { ctl.abort(); return new Response(cutBody(data, 10)); } });
    const e = await error(c.blob(desc, 'layer 1', () => {}, { signal: ctl.signal }));
    expect(e.code).toBe('ABORTED');
  });
});

describe('an image from a registry', () => {
  const layer = gzipSync(Buffer.from('not really a tar'));
  const config = (arch: string) => enc(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] }, history: [{ created_by: 'ADD x' }] }));
  const manifestOf = (cfg: Uint8Array, cfgType = 'application/vnd.oci.image.config.v1+json', layers = [layer]) => enc(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: cfgType, digest: sha(cfg), size: cfg.length },
    // the media type says uncompressed: the bytes say gzip, and the bytes win
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length })),
  }));
  const blobs = (...bs: Uint8Array[]): Record<string, Route> => Object.fromEntries(bs.map((b) => [`/v2/team/app/blobs/${sha(b)}`, () => new Response(b as BlobPart)]));
  const open = (routes: Record<string, Route>, ref = 'reg.example/team/app:v1') => openRegistry(ref, { sha256: jsSha256, fetch: fakeFetch(routes).fetch });

  test('a single manifest: its platform from the config, layers as the manifest lists them', async () => {
    const cfg = config('arm64'), m = manifestOf(cfg);
    const img = await open({ '/v2/team/app/manifests/v1': () => new Response(m), ...blobs(cfg, layer) });
    expect(img.info).toEqual({ format: 'registry', outerCompression: 'none', skipped: [], images: [{ index: 0, name: 'reg.example/team/app:v1', tags: ['reg.example/team/app:v1'], platform: { os: 'linux', architecture: 'arm64' }, digest: sha(m), layerCount: 1 }] });
    const r = await img.resolve();
    expect(r.meta.source).toEqual({ name: 'reg.example/team/app:v1', size: cfg.length + layer.length, registry: { reference: 'reg.example/team/app:v1', digest: sha(m) } });
    expect(r.meta.layers[0]).toMatchObject({ index: 0, digest: sha(layer), diffId: 'sha256:' + '0'.repeat(64), compressedSize: layer.length, createdBy: 'ADD x', compression: 'none' });
    const [blob] = await Promise.all(pullLayers(img.client, r.layers, () => blobSpool()));
    expect(blob.size).toBe(layer.length);
    expect(r.meta.layers[0].compression).toBe('gzip');
    await expect(img.resolve({ platform: 'linux/amd64' })).rejects.toThrow(/has no image for platform linux\/amd64; it has: \[0\] reg\.example\/team\/app:v1 \(linux\/arm64\)/);
  });

  test.each([
    ['a Helm chart', manifestOf(config('amd64'), 'application/vnd.cncf.helm.config.v1+json'), 'NOT_A_CONTAINER_IMAGE', /is a Helm chart \(config media type application\/vnd\.cncf\.helm\.config\.v1\+json\), not a container image/],
    ['no layers', enc(JSON.stringify({ schemaVersion: 2, config: {} })), 'NOT_A_CONTAINER_IMAGE', /is not an image manifest/],
    ['a config descriptor without a size', enc(JSON.stringify({ schemaVersion: 2, config: { digest: sha('x') }, layers: [] })), 'REGISTRY_ERROR', /the config descriptor of manifest sha256:[0-9a-f]+ \(sha256:[0-9a-f]+\) has no valid size/],
    ['an index with only attestations', enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ digest: sha('a'), size: 1, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }] })), 'NO_IMAGES', /lists no images \(only attestation manifests\)/],
    ['an index entry without a digest', enc(JSON.stringify({ schemaVersion: 2, manifests: [{ size: 1 }] })), 'REGISTRY_ERROR', /an entry of the index has no valid digest/],
  ])('%s', async (_w, m, code, message) => {
    const e = await error(open({ '/v2/team/app/manifests/v1': () => new Response(m), ...blobs(config('amd64')) }));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  test('a config that is not JSON', async () => {
    const cfg = enc('{not json'), m = manifestOf(cfg);
    const e = await error(open({ '/v2/team/app/manifests/v1': () => new Response(m), ...blobs(cfg) }));
    expect(e.code).toBe('BAD_JSON');
    expect(e.message).toMatch(/the config sha256:[0-9a-f]+ is not valid JSON/);
  });

  test('an index: platforms listed, amd64 by default, a nested index refused by name', async () => {
    const amd = manifestOf(config('amd64')), nested = enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const index = enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
      { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(nested), size: nested.length, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(amd), size: amd.length, platform: { os: 'linux', architecture: 'amd64' } },
    ] }));
    const img = await open({
      '/v2/team/app/manifests/v1': () => new Response(index),
      [`/v2/team/app/manifests/${sha(amd)}`]: () => new Response(amd),
      [`/v2/team/app/manifests/${sha(nested)}`]: () => new Response(nested),
      ...blobs(config('amd64')),
    });
    expect(img.info.images.map((i) => i.platform?.architecture)).toEqual(['arm64', 'amd64']);
    const r = await img.resolve();
    expect(r.meta.image.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(r.meta.source.registry).toEqual({ reference: 'reg.example/team/app:v1', digest: sha(amd), indexDigest: sha(index) });
    await expect(img.resolve({ platform: 'linux/arm64' })).rejects.toThrow(/the index entry for linux\/arm64 is itself an index/);
  });

  test('layers download at most `parallel` at a time, in layer order', async () => {
    const ls = [1, 2, 3, 4, 5, 6].map((i) => gzipSync(Buffer.alloc(1000 * i, i)));
    const cfg = config('amd64'), m = manifestOf(cfg, undefined, ls);
    let inFlight = 0, max = 0;
    const order: number[] = [];
    const slow: Record<string, Route> = Object.fromEntries(ls.map((l, i) => [`/v2/team/app/blobs/${sha(l)}`, async () => {
      order.push(i);
      inFlight++; max = Math.max(max, inFlight);
      await new Promise((ok) => setTimeout(ok, 30));
      inFlight--;
      return new Response(l);
    }]));
    const img = await open({ '/v2/team/app/manifests/v1': () => new Response(m), ...blobs(cfg), ...slow });
    const r = await img.resolve();
    const got = await Promise.all(pullLayers(img.client, r.layers, () => blobSpool(), { parallel: 2 }));
    expect(got.map((b) => b.size)).toEqual(ls.map((l) => l.length));
    expect(max).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('messages', () => {
  const ref = parseReference('127.0.0.1:5000/team/app:v1');
  test('the save command names the reference, and skips TLS checks for a plain-http registry', () => {
    expect(saveCommand(ref)).toBe('skopeo copy --src-tls-verify=false docker://127.0.0.1:5000/team/app:v1 docker-archive:app.tar (or: docker pull 127.0.0.1:5000/team/app:v1 && docker save 127.0.0.1:5000/team/app:v1 -o app.tar)');
    expect(saveCommand(parseReference('alpine'))).toBe('skopeo copy docker://docker.io/library/alpine:latest docker-archive:alpine.tar (or: docker pull docker.io/library/alpine:latest && docker save docker.io/library/alpine:latest -o alpine.tar)');
  });
  test('CORS advice: the page origin, distribution, zot, Harbor, and the archive route', () => {
    const m = corsAdvice(ref, 'http://127.0.0.1:5000', 'https://strata.example');
    expect(m).toMatch(/Access-Control-Allow-Origin: \[https:\/\/strata\.example\]/);
    expect(m).toMatch(/zot: http\.allowOrigin: "https:\/\/strata\.example"/);
    expect(m).toMatch(/Harbor has no CORS setting/);
    expect(m).toMatch(/skopeo copy --src-tls-verify=false docker:\/\/127\.0\.0\.1:5000\/team\/app:v1/);
    expect(m).not.toMatch(/\n/);
  });
  test.each([
    [{ cause: { code: 'ECONNREFUSED' } }, 'https://r.example/v2/', /could not connect to https:\/\/r\.example \(ECONNREFUSED\)\. Check the host name/],
    [{ cause: { code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' } }, 'https://r.example:5000/v2/', /If the registry serves plain http, write the reference as http:\/\/HOST\/REPO/],
    [{ cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } }, 'https://r.example/v2/', /NODE_EXTRA_CA_CERTS/],
    [new TypeError('fetch failed'), 'http://r.example/v2/', /could not connect to http:\/\/r\.example \(fetch failed\)/],
  ])('unreachable %#', (err, url, message) => {
    expect(unreachable('r/app', url, Object.assign(new TypeError('fetch failed'), err)).message).toMatch(message);
  });
});
