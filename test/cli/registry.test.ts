// `docker://REF` against real registries: Debian's docker-registry (distribution 2.8) started here —
// open, with htpasswd basic auth, with token auth against our token server — filled by skopeo;
// a proxy in front corrupts, cuts, delays or refuses what the tests ask it to. Every shared fixture
// with an expected listing is pulled by tag and by digest, flattened, and checked independently.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkFlatten, FIXTURES, strata } from '../helpers/cli.ts';
import {
  buildIndexLayout, freePort, push, registryToolsMissing, startProxy, startRegistry, startTokenServer,
  type Proxy, type Registry, type TokenServer,
} from '../helpers/registry.ts';

const required = process.env.CI_REQUIRE_TOOLS === '1';
const missing = registryToolsMissing();
const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');

/** [repository, source for skopeo, expected listing, extra listing] */
const fixtures: [string, string, string, string | undefined][] = [
  ['edge/docker', `docker-archive:${gen}/edge.docker.tar`, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`],
  ['edge/oci', `oci-archive:${gen}/edge.oci.tar`, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`],
  ['edge/oci-zstd', `oci-archive:${gen}/edge.oci-zstd.tar`, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`],
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).map((f): [string, string, string, string | undefined] => {
    const base = f.replace(/\.expected\.tsv$/, '');
    const extra = join(peers, 'expected', `${base}.expected-extra.tsv`);
    const oci = /oci/.test(base);
    return [`peers/${base.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, `${oci ? 'oci-archive' : 'docker-archive'}:${peers}/${base}.tar`, join(peers, 'expected', f), existsSync(extra) ? extra : undefined];
  }),
];

const PASSWORD = 's3cret pass:with colon';

describe.runIf(required || !missing)('docker:// against real registries (distribution 2.8)', () => {
  let plain: Registry, basic: Registry, token: Registry, tokens: TokenServer;
  let proxy: Proxy;
  const digests = new Map<string, string>();
  let tmp: string;
  /** the edge image's layer descriptors in `plain`, smallest first */
  let edgeLayers: { digest: string; size: number }[];
  let indexDigest: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'strata-registry-cli-'));
    tokens = await startTokenServer({ users: { alice: PASSWORD } });
    [plain, basic, token] = await Promise.all([
      startRegistry(),
      startRegistry({ basic: { user: 'bob', password: PASSWORD } }),
      startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certFile: tokens.certFile } }),
    ]);
    // the zstd fixture first: skopeo could otherwise reuse a gzip blob of the same content
    for (const [repo, src] of fixtures) digests.set(repo, await push(src, plain, `${repo}:v1`));
    const layout = join(tmp, 'index');
    buildIndexLayout(`${gen}/edge.oci.tar`, `${peers}/dive__test-oci-gzip-image.tar`, layout);
    indexDigest = await push(`oci:${layout}`, plain, 'multi:v1', { all: true });
    await push(`oci-archive:${gen}/edge.oci.tar`, basic, 'private/edge:v1', { creds: `bob:${PASSWORD}` });
    await push(`oci-archive:${gen}/edge.oci.tar`, token, 'public/edge:v1', { creds: `alice:${PASSWORD}` });
    await push(`oci-archive:${gen}/edge.oci.tar`, token, 'private/edge:v1', { creds: `alice:${PASSWORD}` });
    const res = await fetch(`${plain.origin}/v2/edge/oci/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    edgeLayers = ((await res.json()) as { layers: { digest: string; size: number }[] }).layers.sort((a, b) => a.size - b.size);
    proxy = await startProxy(plain);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([plain?.stop(), basic?.stop(), token?.stop(), tokens?.close(), proxy?.close()]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const out = (name: string) => join(tmp, `${name.replace(/[^a-z0-9]+/gi, '_')}.tar`);
  const viaProxy = (ref: string) => `docker://${proxy.host}/${ref}`;

  test.concurrent.each(fixtures.flatMap(([repo, , expected, extra]) => [
    [`${repo}:v1`, repo, 'tag', expected, extra],
    [`${repo}@digest`, repo, 'digest', expected, extra],
  ]))('flatten docker://%s matches the fixture\'s expected listing', async (_n, repo, by, expected, extra) => {
    const ref = by === 'tag' ? `${plain.host}/${repo}:v1` : `${plain.host}/${repo}@${digests.get(repo)}`;
    const file = out(`${repo}-${by}`);
    const r = await strata(['flatten', `docker://${ref}`, '-o', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const check = await checkFlatten(file, expected, extra);
    expect(check.stdout + check.stderr).toMatch(/identical/);
    expect(check.code).toBe(0);
  });

  test('inspect: the reference, manifest digest, layers as the registry has them, every digest verified', async () => {
    const r = await strata(['inspect', `docker://${plain.host}/edge/oci-zstd:v1`]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.format).toBe('registry');
    expect(j.source.registry).toEqual({ reference: `${plain.host}/edge/oci-zstd:v1`, digest: digests.get('edge/oci-zstd') });
    expect(j.layers.map((l: { compression: string }) => l.compression)).toEqual(Array(5).fill('zstd'));
    for (const l of j.layers) expect(l.verify.state).toBe('verified');
    // an uncompressed docker-archive push keeps its tar layers
    const d = JSON.parse((await strata(['inspect', `docker://${plain.host}/edge/docker:v1`])).stdout);
    expect(d.layers.map((l: { compression: string }) => l.compression)).toEqual(Array(5).fill('none'));
  });

  test('ls, ls --changes and analyze --json say what they say of the archive', async () => {
    const ref = `docker://${plain.host}/edge/oci:v1`, file = `${gen}/edge.oci.tar`;
    for (const args of [['ls'], ['ls', '--changes'], ['analyze', '--json']]) {
      const [a, b] = await Promise.all([strata([args[0], ref, ...args.slice(1)]), strata([args[0], file, ...args.slice(1)])]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code).toBe(0);
      if (args[0] !== 'analyze') { expect(a.stdout).toBe(b.stdout); continue; }
      // the image's name is where it came from; every finding is the same
      const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
      expect(ja.image.name).toBe(`${plain.host}/edge/oci:v1`);
      delete ja.image; delete jb.image;
      expect(ja).toEqual(jb);
    }
    const text = await strata(['analyze', ref]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/efficiency/i);
  });

  test('diff takes docker:// on both sides: the same filesystem pushed as docker-archive and as zstd OCI', async () => {
    const r = await strata(['diff', `docker://${plain.host}/edge/docker:v1`, `docker://${plain.host}/edge/oci-zstd@${digests.get('edge/oci-zstd')}`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.files).toEqual([]);
    expect(j.counts).toMatchObject({ added: 0, modified: 0, deleted: 0 });
  });

  test('a multi-platform index: linux/amd64 by default, --platform for another, attestations skipped', async () => {
    const byDefault = JSON.parse((await strata(['inspect', `docker://${plain.host}/multi:v1`])).stdout);
    expect(byDefault.chosen.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(byDefault.images.map((i: { platform: { architecture: string } }) => i.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(byDefault.skipped).toEqual([{ what: expect.stringMatching(/^sha256:/), why: expect.stringMatching(/attestation/) }]);
    expect(byDefault.source.registry.indexDigest).toBe(indexDigest);
    const amd = out('multi-amd64'), arm = out('multi-arm64');
    expect((await strata(['flatten', `docker://${plain.host}/multi:v1`, '-o', amd])).code).toBe(0);
    expect((await checkFlatten(amd, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`)).code).toBe(0);
    const r = await strata(['flatten', `docker://${plain.host}/multi@${indexDigest}`, '--platform', 'linux/arm64', '-o', arm]);
    expect(r.code, r.stderr).toBe(0);
    expect((await checkFlatten(arm, join(peers, 'expected/dive__test-oci-gzip-image.expected.tsv'))).code).toBe(0);
    const none = await strata(['ls', `docker://${plain.host}/multi:v1`, '--platform', 'linux/s390x']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^strata: .*multi:v1 has no image for platform linux\/s390x; it has: \[0\] .*\(linux\/amd64\), \[1\] .*\(linux\/arm64\)\.\n$/);
  });

  test('basic auth (htpasswd): no credentials, wrong ones, --creds, STRATA_REGISTRY_AUTH', async () => {
    const ref = `docker://${basic.host}/private/edge:v1`;
    const none = await strata(['ls', ref]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/needs credentials to pull private\/edge.*401 Unauthorized.*--creds USER:PASSWORD or set STRATA_REGISTRY_AUTH/);
    const wrong = await strata(['ls', ref, '--creds', 'bob:not-it']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the credentials of user "bob".*401 Unauthorized/);
    expect(wrong.stderr).not.toContain('not-it');
    const flat = out('basic');
    const ok = await strata(['flatten', ref, '--creds', `bob:${PASSWORD}`, '-o', flat]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await checkFlatten(flat, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`)).code).toBe(0);
    const env = await strata(['ls', ref], { env: { ...process.env, STRATA_REGISTRY_AUTH: `bob:${PASSWORD}` } });
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toBe((await strata(['ls', `${gen}/edge.oci.tar`])).stdout);
    // --creds wins over the environment
    const both = await strata(['ls', ref, '--creds', 'bob:nope'], { env: { ...process.env, STRATA_REGISTRY_AUTH: `bob:${PASSWORD}` } });
    expect(both.code).toBe(1);
    for (const r of [none, wrong, both]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await strata(['ls', ref], { env: { ...process.env, STRATA_REGISTRY_AUTH: 'no-colon' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('strata: STRATA_REGISTRY_AUTH takes USER:PASSWORD (a user name, a colon, the password).\n');
    const notRegistry = await strata(['ls', `${gen}/edge.oci.tar`, '--creds', 'a:b']);
    expect(notRegistry.code).toBe(2);
    expect(notRegistry.stderr).toMatch(/--creds is for images in a registry/);
  });

  test('token auth: an anonymous token for a public repository, credentials for a private one', async () => {
    tokens.requests.length = 0;
    const pub = await strata(['ls', `docker://${token.host}/public/edge:v1`]);
    expect(pub.code, pub.stderr).toBe(0);
    expect(tokens.requests).toContain('anonymous repository:public/edge:pull');
    const anon = await strata(['ls', `docker://${token.host}/private/edge:v1`]);
    expect(anon.code).toBe(1);
    expect(anon.stderr).toMatch(/needs credentials to pull private\/edge.*401 Unauthorized/);
    const wrong = await strata(['ls', `docker://${token.host}/private/edge:v1`, '--creds', 'alice:wrong']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/the token service http:\/\/127\.0\.0\.1:\d+ refused the credentials of user "alice" \(401/);
    const flat = out('token');
    const ok = await strata(['flatten', `docker://${token.host}/private/edge:v1`, '--creds', `alice:${PASSWORD}`, '-o', flat]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(tokens.requests).toContain('alice repository:private/edge:pull');
    expect((await checkFlatten(flat, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`)).code).toBe(0);
  });

  describe('through a proxy that misbehaves', () => {
    const blobPath = (d: string) => (req: { method?: string; url?: string }) => req.method === 'GET' && req.url === `/v2/edge/oci/blobs/${d}`;

    test('a blob whose bytes do not match its digest: a clear error, nothing written', async () => {
      const big = edgeLayers[edgeLayers.length - 1];
      proxy.rules.splice(0, proxy.rules.length, { match: blobPath(big.digest), corruptAt: 1000 });
      const file = out('corrupt');
      const r = await strata(['flatten', viaProxy('edge/oci:v1'), '-o', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^strata: ${proxy.host}/edge/oci:v1: layer 1 of 5 \\(${big.digest}\\) hashes to sha256:[0-9a-f]{64}, not ${big.digest} as the manifest says\\. The registry, or something between it and here, served corrupt bytes; nothing was stored\\.\\n$`));
      expect(existsSync(file)).toBe(false);
    });

    test('a manifest whose bytes do not match: by digest, and by tag against Docker-Content-Digest', async () => {
      proxy.rules.splice(0, proxy.rules.length, { match: (req) => /\/manifests\//.test(req.url ?? ''), corruptAt: 30 });
      const byDigest = await strata(['ls', viaProxy(`edge/oci@${digests.get('edge/oci')}`)]);
      expect(byDigest.code).toBe(1);
      expect(byDigest.stderr).toMatch(/manifest sha256:[0-9a-f]{64} hashes to sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64} \(the digest asked for\)\. .*nothing was stored/);
      const byTag = await strata(['ls', viaProxy('edge/oci:v1')]);
      expect(byTag.code).toBe(1);
      expect(byTag.stderr).toMatch(/tag "v1" hashes to sha256:[0-9a-f]{64}, not sha256:[0-9a-f]{64} \(the registry's Docker-Content-Digest\)/);
    });

    test('a connection cut in the middle of a blob is resumed with Range', async () => {
      const big = edgeLayers[edgeLayers.length - 1];
      proxy.rules.splice(0, proxy.rules.length, { match: blobPath(big.digest), cutAfter: 300_000 });
      proxy.log.length = 0;
      const file = out('resumed');
      const r = await strata(['flatten', viaProxy('edge/oci:v1'), '-o', file]);
      expect(r.code, r.stderr).toBe(0);
      // resumed from what had arrived when the connection broke (some of the 300000 sent were in flight)
      const resumed = proxy.log.map((l) => new RegExp(`^GET /v2/edge/oci/blobs/${big.digest} bytes=(\\d+)-$`).exec(l)).filter((m) => m);
      expect(resumed).toHaveLength(1);
      expect(Number(resumed[0]![1])).toBeGreaterThan(0);
      expect(Number(resumed[0]![1])).toBeLessThanOrEqual(300_000);
      expect((await checkFlatten(file, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`)).code).toBe(0);
    });

    test('a server that answers a Range request with the whole blob: the download starts again', async () => {
      const big = edgeLayers[edgeLayers.length - 1];
      proxy.rules.splice(0, proxy.rules.length,
        { match: (req) => blobPath(big.digest)(req) && !req.headers.range, cutAfter: 200_000 },
        { match: (req) => blobPath(big.digest)(req) && !!req.headers.range, ignoreRange: true });
      proxy.log.length = 0;
      const file = out('restarted');
      const r = await strata(['flatten', viaProxy('edge/oci:v1'), '-o', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.log.filter((l) => l.startsWith(`GET /v2/edge/oci/blobs/${big.digest}`))).toEqual([
        `GET /v2/edge/oci/blobs/${big.digest}`, expect.stringMatching(new RegExp(`^GET /v2/edge/oci/blobs/${big.digest} bytes=\\d+-$`)),
      ]);
      expect((await checkFlatten(file, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`)).code).toBe(0);
    });

    test('a connection that keeps breaking: resumed 3 times, then a clear error', async () => {
      const big = edgeLayers[edgeLayers.length - 1];
      proxy.rules.splice(0, proxy.rules.length, { match: blobPath(big.digest), cutAfter: 100_000, times: 100 });
      const r = await strata(['ls', viaProxy('edge/oci:v1')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/layer 1 of 5 \(sha256:[0-9a-f]{64}\): the connection broke off after \d+ of \d+ bytes.*, and 3 attempts to resume it failed\. Check the connection and try again\.\n$/);
    });

    test('layers download in parallel, at most four at a time', async () => {
      proxy.rules.splice(0, proxy.rules.length, { match: (req) => /\/blobs\//.test(req.url ?? '') && !/config/.test(req.url ?? ''), delayMs: 400 });
      const r = await strata(['ls', viaProxy('edge/oci:v1')]);
      expect(r.code, r.stderr).toBe(0);
      // 5 layers and the config (fetched before them) through the proxy: the layers overlap, four at most
      expect(proxy.maxBlobsInFlight()).toBe(4);
    });

    test.each([
      [403, {}, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}', 'REGISTRY_DENIED',
        /denied access to edge\/oci \(403 Forbidden\) — denied: requested access to the resource is denied\.\n$/],
      [404, {}, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}', 'REGISTRY_NOT_FOUND',
        /has no repository "edge\/oci" \(404 Not Found, NAME_UNKNOWN\)\.\n$/],
      [429, { 'Retry-After': '120' }, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', 'REGISTRY_RATE_LIMITED',
        /limits how often it may be asked, and the limit is reached \(429 Too Many Requests\): try again in 2 min \(Retry-After\)\.\n$/],
      [429, { 'RateLimit-Limit': '100;w=21600', 'RateLimit-Remaining': '0;w=21600' }, '', 'REGISTRY_RATE_LIMITED',
        /\(429 Too Many Requests\): the limit is 100 requests per 6 h; try again later, or sign in/],
      [503, {}, 'down for maintenance', 'REGISTRY_ERROR', /answered 503 Service Unavailable for tag "v1"; try again later\.\n$/],
    ])('the registry answers %i: one line that says what it means', async (status, headers, body, _code, message) => {
      proxy.rules.splice(0, proxy.rules.length, { match: (req) => /\/manifests\//.test(req.url ?? ''), status, headers, body });
      const r = await strata(['ls', viaProxy('edge/oci:v1')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^strata: ${proxy.host}/edge/oci:v1: `));
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(2);
    });

    test('a redirect to blob storage elsewhere is followed (the bytes still checked)', async () => {
      const big = edgeLayers[edgeLayers.length - 1];
      proxy.rules.splice(0, proxy.rules.length, { match: blobPath(big.digest), status: 307, headers: { Location: `${plain.origin}/v2/edge/oci/blobs/${big.digest}` } });
      proxy.log.length = 0;
      const file = out('redirected');
      const r = await strata(['flatten', viaProxy('edge/oci:v1'), '-o', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.log).toContain(`GET /v2/edge/oci/blobs/${big.digest}`);
      expect((await checkFlatten(file, `${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`)).code).toBe(0);
    });

    test('a blob missing from the registry (404 on a layer)', async () => {
      const small = edgeLayers[0];
      proxy.rules.splice(0, proxy.rules.length, { match: blobPath(small.digest), status: 404, body: '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}' });
      const r = await strata(['ls', viaProxy('edge/oci:v1')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`is missing layer \\d of 5 \\(${small.digest}\\): the image is incomplete in the registry \\(404 Not Found, BLOB_UNKNOWN\\)\\.\\n$`));
    });
  });

  test('a missing tag and a missing repository, as the registry says them', async () => {
    const tag = await strata(['ls', `docker://${plain.host}/edge/oci:nope`]);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toBe(`strata: ${plain.host}/edge/oci:nope: ${plain.host}/edge/oci has no tag "nope" (404 Not Found, MANIFEST_UNKNOWN).\n`);
    const digest = await strata(['ls', `docker://${plain.host}/edge/oci@sha256:${'0'.repeat(64)}`]);
    expect(digest.code).toBe(1);
    expect(digest.stderr).toMatch(/has no manifest sha256:0{64} \(404 Not Found, MANIFEST_UNKNOWN\)\.\n$/);
  });

  test.each([
    ['docker://Bad/Name:v1', /^strata: Bad\/Name:v1: "Bad\/Name:v1" is not an image reference: .*\n$/],
    ['docker://127.0.0.1:PORT/edge:v1', /^strata: 127\.0\.0\.1:\d+\/edge:v1: could not connect to http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. Check the host name, the port and the network\.\n$/],
    ['docker://localhost:5/a@sha256:0123456789abcdef0123456789abcdef01234567', /is not an image reference: a sha256 digest is 64 lower-case hex digits/],
    ['docker://localhost:5/a@md5:0123456789abcdef0123456789abcdef', /^strata: localhost:5\/a@md5:[0-9a-f]{32}: manifest md5:[0-9a-f]{32} is named by a md5 digest; Strata checks sha256 digests only\.\n$/],
  ])('bad input %s: exit 1 and one line', async (ref, message) => {
    const r = await strata(['inspect', ref.replace('PORT', String(await freePort()))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });
});
