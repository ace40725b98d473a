// Opening images straight from real registries in the built site, in Chromium: docker-registry 2.8
// instances started here (with CORS headers for the site's origin, with htpasswd basic auth, with
// token auth against our token server, and one without CORS), filled by skopeo; a proxy in front
// that delays, cuts or corrupts. ?image= by tag and by digest for every fixture, exported and
// checked independently; the field and the header; the platform picker; per-layer progress;
// cancel; sign-in; the page's Content-Security-Policy.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  FIXTURES, checkFlatten, download, idbCounts, launchBrowser, newContext, serve, startSite, tempDir, unexpected, waitForImage,
  watchPage, type Site,
} from './site.ts';
import {
  buildIndexLayout, push, registryToolsMissing, startProxy, startRegistry, startTokenServer,
  type Proxy, type Registry, type TokenServer,
} from '../helpers/registry.ts';

const required = process.env.CI_REQUIRE_TOOLS === '1';
const missing = registryToolsMissing();
const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');
const EDGE = [`${gen}/edge.expected.tsv`, `${gen}/edge.expected-extra.tsv`] as const;

/** [repository, skopeo source, expected listing, extra listing] */
const fixtures: [string, string, string, string | undefined][] = [
  ['edge/docker', `docker-archive:${gen}/edge.docker.tar`, ...EDGE],
  ['edge/oci', `oci-archive:${gen}/edge.oci.tar`, ...EDGE],
  ['edge/oci-zstd', `oci-archive:${gen}/edge.oci-zstd.tar`, ...EDGE],
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).sort().map((f): [string, string, string, string | undefined] => {
    const base = f.replace(/\.expected\.tsv$/, '');
    const extra = join(peers, 'expected', `${base}.expected-extra.tsv`);
    return [`peers/${base.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, `${/oci/.test(base) ? 'oci-archive' : 'docker-archive'}:${peers}/${base}.tar`, join(peers, 'expected', f), existsSync(extra) ? extra : undefined];
  }),
];

const PASSWORD = 'open sesame:42';

describe.runIf(required || !missing)('images from registries in Chromium', () => {
  let site: Site;
  let browser: Browser;
  let cors: Registry, basic: Registry, token: Registry, noCors: Registry;
  let tokens: TokenServer;
  let proxy: Proxy;
  /** distribution answers CORS preflights 401 when auth is on (distribution#4458): these answer them */
  let basicFront: Proxy, tokenFront: Proxy;
  const digests = new Map<string, string>();
  const out = tempDir('registry-browser');
  const opened: { context: BrowserContext; problems: string[] }[] = [];
  let siteOrigin: string;
  let edgeLayers: { digest: string; size: number }[];

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    siteOrigin = new URL(site.url).origin;
    tokens = await startTokenServer({ users: { alice: PASSWORD }, corsOrigin: siteOrigin });
    [cors, basic, token, noCors] = await Promise.all([
      startRegistry({ corsOrigin: siteOrigin }),
      startRegistry({ corsOrigin: siteOrigin, basic: { user: 'bob', password: PASSWORD } }),
      startRegistry({ corsOrigin: siteOrigin, token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, certFile: tokens.certFile } }),
      startRegistry(),
    ]);
    for (const [repo, src] of fixtures) digests.set(repo, await push(src, cors, `${repo}:v1`));
    const layout = join(out.dir, 'index');
    buildIndexLayout(`${gen}/edge.oci.tar`, `${peers}/dive__test-oci-gzip-image.tar`, layout);
    await push(`oci:${layout}`, cors, 'multi:v1', { all: true });
    await push(`oci-archive:${gen}/edge.oci.tar`, cors, 'edge/again:v1');
    await push(`oci-archive:${gen}/edge.oci.tar`, basic, 'private/edge:v1', { creds: `bob:${PASSWORD}` });
    await push(`oci-archive:${gen}/edge.oci.tar`, token, 'public/edge:v1', { creds: `alice:${PASSWORD}` });
    await push(`oci-archive:${gen}/edge.oci.tar`, token, 'private/edge:v1', { creds: `alice:${PASSWORD}` });
    await push(`oci-archive:${gen}/edge.oci.tar`, noCors, 'edge:v1');
    const res = await fetch(`${cors.origin}/v2/edge/oci/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    edgeLayers = ((await res.json()) as { layers: { digest: string; size: number }[] }).layers.sort((a, b) => a.size - b.size);
    proxy = await startProxy(cors, [], { corsOrigin: siteOrigin });
    basicFront = await startProxy(basic, [], { corsOrigin: siteOrigin });
    tokenFront = await startProxy(token, [], { corsOrigin: siteOrigin });
  }, 300_000);

  afterAll(async () => {
    for (const o of opened) expect(unexpected(o.problems)).toEqual([]);
    await browser?.close();
    await Promise.all([site?.close(), cors?.stop(), basic?.stop(), token?.stop(), noCors?.stop(), tokens?.close(), proxy?.close(), basicFront?.close(), tokenFront?.close()]);
    out.remove();
  });

  async function fresh(): Promise<Page> {
    const context = await newContext(browser);
    const page = await context.newPage();
    opened.push({ context, problems: watchPage(page) });
    return page;
  }
  const banner = (page: Page) => page.getByRole('alert');
  const image = (r: Registry | Proxy, ref: string) => `${site.url}?image=${r.host}/${ref}`;

  /** The Image view's flattened download, checked against the expected listing; every layer verified. */
  async function exportAndCheck(page: Page, file: string, expected: string, extra?: string): Promise<void> {
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    const saved = await download(page, () => page.getByRole('button', { name: /flattened.*\(\.tar\)/ }).click(), join(out.dir, file));
    const check = await checkFlatten(saved.path, expected, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    const verification = page.getByRole('table').filter({ hasText: 'Digest / diff ID' }).locator('tbody tr td:last-child');
    await expect.poll(() => verification.allInnerTexts(), { timeout: 30_000 }).not.toContainEqual(expect.stringContaining('verifying'));
    for (const v of await verification.allInnerTexts()) expect(v).toMatch(/^✓\s+verified/);
  }

  describe('every fixture through ?image=, by tag and by digest', () => {
    let byTag: Page, byDigest: Page;
    beforeAll(async () => { [byTag, byDigest] = await Promise.all([fresh(), fresh()]); });

    test.each(fixtures)('%s', async (repo, _src, expected, extra) => {
      const safe = repo.replace(/\//g, '_');
      await Promise.all([
        (async () => {
          await byTag.goto(image(cors, `${repo}:v1`));
          await waitForImage(byTag);
          await exportAndCheck(byTag, `${safe}-tag.tar`, expected, extra);
        })(),
        (async () => {
          await byDigest.goto(image(cors, `${repo}@${digests.get(repo)}`));
          await waitForImage(byDigest);
          await exportAndCheck(byDigest, `${safe}-digest.tar`, expected, extra);
        })(),
      ]);
    });
  });

  test('the stored image remembers its reference and manifest digest, and reopens from storage after a reload', async () => {
    const page = await fresh();
    await page.goto(image(proxy, 'edge/oci-zstd:v1'));
    await waitForImage(page);
    // once imported, the hash names the stored image: a reload opens it, it does not pull again
    expect(page.url()).toMatch(/\?image=127\.0\.0\.1:\d+\/edge\/oci-zstd:v1#image=[a-z0-9]+-[0-9a-f]+&/);
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    const dl = page.locator('dl').first();
    await expect.poll(() => dl.innerText()).toMatch(new RegExp(`Pulled from\\s+${proxy.host}/edge/oci-zstd:v1`));
    expect(await dl.innerText()).toMatch(new RegExp(`Manifest\\s+${digests.get('edge/oci-zstd')}`));
    expect(await dl.innerText()).toMatch(/Format\s+registry/);
    const asked = proxy.log.length;
    await page.reload();
    await page.getByRole('heading', { name: `${proxy.host}/edge/oci-zstd:v1` }).waitFor();
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    await waitForImage(page);
    await page.getByRole('button', { name: 'Stored images', exact: true }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Stored images' }).innerText()).toContain(`${proxy.host}/edge/oci-zstd:v1`);
    // only the page's own start-up look at /v2/ (for the policy), no manifest or blob
    expect(proxy.log.slice(asked)).toEqual(['GET /v2/']);
  });

  test('#image=docker://REF opens as ?image= does, and a stored id in #image= still means the stored image', async () => {
    const page = await fresh();
    await page.goto(`${site.url}#image=docker://${cors.host}/edge/oci:v1`);
    await waitForImage(page);
    const stored = new URL(page.url()).hash;
    expect(stored).toMatch(/^#image=[a-z0-9]+-[0-9a-f]+&/);
    await page.goto(`${site.url}${stored}`);
    await page.reload();
    await waitForImage(page);
    expect(new URL(page.url()).hash).toBe(stored);
  });

  test('the landing field: the page reloads with ?image= (its policy then allows the registry); the header field opens in place', async () => {
    const page = await fresh();
    await page.goto(site.url);
    await page.getByRole('textbox', { name: 'Image reference' }).fill(`${cors.host}/edge/oci:v1`);
    await page.getByRole('button', { name: 'Open from registry' }).click();
    await waitForImage(page);
    expect(page.url()).toContain(`?image=${cors.host}/edge/oci:v1`);
    const policy = await page.evaluate(() => [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy"]')].map((m) => m.getAttribute('content')));
    expect(policy[0]).toBe(`connect-src 'self' blob: data: ${cors.origin}`);
    // same registry from the header: no reload (the marker survives), the new image opens
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
    await page.getByRole('button', { name: 'From registry…' }).click();
    await page.getByRole('form', { name: 'Open from a registry' }).getByRole('textbox').fill(`${cors.host}/edge/again:v1`);
    await page.getByRole('form', { name: 'Open from a registry' }).getByRole('button', { name: 'Open from registry' }).click();
    await expect.poll(() => page.locator('header .image').innerText(), { timeout: 30_000 }).toBe(`${cors.host}/edge/again:v1`);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  test('an index: the platform picker (attestation skipped), and &platform= to skip it', async () => {
    const page = await fresh();
    await page.goto(image(cors, 'multi:v1'));
    const picker = page.getByRole('dialog', { name: 'Choose a platform' });
    await picker.waitFor();
    expect(await picker.getByRole('button').allInnerTexts()).toEqual([
      expect.stringMatching(/linux\/amd64/), expect.stringMatching(/linux\/arm64/), 'Cancel',
    ]);
    expect(await picker.innerText()).toMatch(/1 entries skipped/);
    await picker.getByRole('button', { name: /linux\/arm64/ }).click();
    await waitForImage(page);
    await exportAndCheck(page, 'multi-arm64.tar', join(peers, 'expected/dive__test-oci-gzip-image.expected.tsv'));
    const direct = await fresh();
    await direct.goto(`${image(cors, 'multi:v1')}&platform=linux/amd64`);
    await waitForImage(direct);
    await exportAndCheck(direct, 'multi-amd64.tar', ...EDGE);
  });

  test('progress per layer with bytes while layers download, then Cancel: nothing stored', async () => {
    const page = await fresh();
    proxy.rules.splice(0, proxy.rules.length, { match: (req) => req.method === 'GET' && /\/blobs\//.test(req.url ?? ''), delayMs: 1500 });
    try {
      await page.goto(image(proxy, 'edge/oci:v1'));
      const layers = page.getByRole('list', { name: 'Layers' });
      await expect.poll(() => layers.getByRole('listitem').count(), { timeout: 30_000 }).toBe(5);
      const labels = await layers.getByRole('listitem').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      // three download at once, in layer order; each says its bytes of its compressed size
      for (const [i, l] of labels.entries()) expect(l).toMatch(new RegExp(`^Layer ${i + 1}: (waiting|downloading), [\\d.]+ (?:[KMG]i?)?B of [\\d.]+ (?:[KMG]i?)?B$`));
      expect(await page.getByRole('region', { name: 'Import progress' }).innerText()).toMatch(/Downloading/);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('region', { name: 'Import progress' }).waitFor({ state: 'detached' });
      expect(await banner(page).count()).toBe(0);
      await page.waitForTimeout(500);
      const counts = await idbCounts(page);
      for (const [store, n] of Object.entries(counts)) expect(n, store).toBe(0);
    } finally {
      proxy.rules.length = 0;
    }
    // without the delay, each layer ends merged
    await page.goto(image(proxy, 'edge/oci:v1'));
    await waitForImage(page);
  });

  test('a blob whose bytes do not match its digest: a clear error, nothing stored', async () => {
    const page = await fresh();
    const big = edgeLayers[edgeLayers.length - 1];
    proxy.rules.splice(0, proxy.rules.length, { match: (req) => req.url === `/v2/edge/oci/blobs/${big.digest}`, corruptAt: 5000 });
    try {
      await page.goto(image(proxy, 'edge/oci:v1'));
      await banner(page).waitFor();
      expect(await banner(page).innerText()).toMatch(new RegExp(`layer 1 of 5 \\(${big.digest}\\) hashes to sha256:[0-9a-f]{64}, not ${big.digest} as the manifest says\\. The registry, or something between it and here, served corrupt bytes; nothing was stored\\.\\s+DIGEST_MISMATCH`));
      const counts = await idbCounts(page);
      for (const [store, n] of Object.entries(counts)) expect(n, store).toBe(0);
    } finally {
      proxy.rules.length = 0;
    }
  });

  test('a connection cut in the middle of a blob is resumed with Range', async () => {
    const page = await fresh();
    const big = edgeLayers[edgeLayers.length - 1];
    // sent slowly, so the page has read some of it when the connection breaks (Chromium drops what
    // had arrived but was not read yet: a fast cut resumes from 0)
    proxy.rules.splice(0, proxy.rules.length, { match: (req) => req.url === `/v2/edge/oci/blobs/${big.digest}` && req.method === 'GET', cutAfter: 400_000, rate: 2 << 20 });
    proxy.log.length = 0;
    try {
      await page.goto(image(proxy, 'edge/oci:v1'));
      await waitForImage(page);
      const resumed = proxy.log.map((l) => new RegExp(`^GET /v2/edge/oci/blobs/${big.digest} bytes=(\\d+)-$`).exec(l)).filter((m) => m);
      expect(resumed).toHaveLength(1);
      expect(Number(resumed[0]![1])).toBeGreaterThan(0);
      await exportAndCheck(page, 'resumed.tar', ...EDGE);
    } finally {
      proxy.rules.length = 0;
    }
  });

  test('a blob redirected to blob storage on another origin: refused by the page\'s policy (said so), allowed with &allow=', async () => {
    const big = edgeLayers[edgeLayers.length - 1];
    // "blob storage": a static server with Access-Control-Allow-Origin: * (after a cross-origin
    // redirect the browser sends Origin: null, so S3 and CDNs must answer *)
    mkdirSync(join(out.dir, 'storage'));
    writeFileSync(join(out.dir, 'storage', big.digest.slice(7)), Buffer.from(await (await fetch(`${cors.origin}/v2/edge/oci/blobs/${big.digest}`)).arrayBuffer()));
    const storage = await serve([{ prefix: '/', dir: join(out.dir, 'storage'), cors: true }]);
    proxy.rules.splice(0, proxy.rules.length, { match: (req) => req.url === `/v2/edge/oci/blobs/${big.digest}`, status: 307, headers: { Location: `${storage.origin}/${big.digest.slice(7)}` } });
    try {
      const page = await fresh();
      await page.goto(image(proxy, 'edge/oci:v1'));
      await banner(page).waitFor();
      const text = await banner(page).innerText();
      expect(text).toContain(`edge/oci:v1: the registry redirected a download (${big.digest}) to another server, which this page's Content-Security-Policy does not allow; the browser does not say which`);
      expect(text).toContain(`curl -sI ${proxy.origin}/v2/edge/oci/blobs/${big.digest}); add &allow=ORIGIN`);
      expect(text).toContain('REGISTRY_BLOCKED');
      for (const [store, n] of Object.entries(await idbCounts(page))) expect(n, store).toBe(0);
      expect(storage.log).toEqual([]); // refused before it left the browser
      await page.goto(`${image(proxy, 'edge/oci:v1')}&allow=${storage.origin}`);
      await waitForImage(page);
      expect(storage.log).toEqual([`GET /${big.digest.slice(7)}`]);
      await exportAndCheck(page, 'redirected.tar', ...EDGE);
    } finally {
      proxy.rules.length = 0;
      await storage.close();
    }
  });

  test.each([
    ['a reference that does not parse', () => `${site.url}?image=Not/A:Ref!`, /"Not\/A:Ref!" is not an image reference: .*BAD_REFERENCE/s],
    ['a missing tag', () => image(cors, 'edge/oci:nope'), /edge\/oci has no tag "nope" \(404 Not Found, MANIFEST_UNKNOWN\)\.\s+REGISTRY_NOT_FOUND/],
    ['a registry nobody answers for', () => `${site.url}?image=127.0.0.1:9/edge:v1`, /could not connect to http:\/\/127\.0\.0\.1:9 \(the browser gives no reason.*skopeo copy --src-tls-verify=false docker:\/\/127\.0\.0\.1:9\/edge:v1.*REGISTRY_UNREACHABLE/s],
  ])('%s: one banner that says so', async (_w, url, message) => {
    const page = await fresh();
    await page.goto(url());
    await banner(page).waitFor();
    expect(await banner(page).innerText()).toMatch(message);
  });

  test('a registry without CORS headers: the banner says what to configure and how to save the image instead', async () => {
    const page = await fresh();
    await page.goto(image(noCors, 'edge:v1'));
    await banner(page).waitFor();
    const text = await banner(page).innerText();
    expect(text).toContain(`${noCors.host}/edge:v1: the server at ${noCors.origin} answered, but without CORS headers that let this page (${siteOrigin}) read it.`);
    expect(text).toContain(`Access-Control-Allow-Origin: [${siteOrigin}]`);
    expect(text).toContain('zot: http.allowOrigin');
    expect(text).toContain('Harbor has no CORS setting');
    expect(text).toContain(`skopeo copy --src-tls-verify=false docker://${noCors.host}/edge:v1 docker-archive:edge.tar`);
    expect(text).toContain('REGISTRY_CORS');
    expect(text).not.toMatch(/\n\s+at /);
  });

  test('distribution with auth answers the CORS preflight 401: the page says so', async () => {
    const page = await fresh();
    await page.goto(image(basic, 'private/edge:v1'));
    await banner(page).waitFor();
    expect(await banner(page).innerText()).toMatch(/must also answer the CORS preflight \(OPTIONS, sent without them\) with 200 or 204: distribution answers it 401 \(distribution issue #4458\)/);
  });

  test('basic auth (htpasswd, behind a proxy that answers preflights): the sign-in dialog, a wrong password asked again, credentials kept out of the URL and of storage', async () => {
    const page = await fresh();
    await page.goto(image(basicFront, 'private/edge:v1'));
    const dialog = page.getByRole('dialog', { name: `Sign in to ${basicFront.host}` });
    await dialog.waitFor();
    expect(await dialog.innerText()).toMatch(/needs credentials to pull private\/edge.*401 Unauthorized/);
    await dialog.getByLabel('User name').fill('bob');
    await dialog.getByLabel('Password').fill('wrong password');
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => dialog.innerText()).toMatch(/refused the credentials of user "bob"/);
    expect(await dialog.innerText()).not.toContain('wrong password');
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await waitForImage(page);
    await exportAndCheck(page, 'basic.tar', ...EDGE);
    expect(page.url()).not.toContain(PASSWORD);
    expect(page.url()).not.toContain('bob');
    const stored = await page.evaluate(async () => {
      const out: string[] = [];
      for (const info of await indexedDB.databases()) {
        const db = await new Promise<IDBDatabase>((ok, fail) => { const r = indexedDB.open(info.name!); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
        for (const store of Array.from(db.objectStoreNames)) {
          const all = db.transaction(store, 'readonly').objectStore(store).getAll();
          out.push(JSON.stringify(await new Promise((ok) => { all.onsuccess = () => ok(all.result); })));
        }
        db.close();
      }
      return out.join('\n') + JSON.stringify(localStorage) + JSON.stringify(sessionStorage);
    });
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain(btoa(`bob:${PASSWORD}`));
  });

  test('token auth: the token service is allowed by the page (found from the registry), anonymous for a public repository, sign-in for a private one', async () => {
    const page = await fresh();
    tokens.requests.length = 0;
    await page.goto(image(tokenFront, 'public/edge:v1'));
    await waitForImage(page);
    expect(tokens.requests).toContain('anonymous repository:public/edge:pull');
    const policy = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')!.getAttribute('content'));
    expect(policy).toBe(`connect-src 'self' blob: data: ${tokenFront.origin} ${tokens.origin}`);
    await page.goto(image(tokenFront, 'private/edge:v1'));
    const dialog = page.getByRole('dialog', { name: `Sign in to ${tokenFront.host}` });
    await dialog.waitFor();
    await dialog.getByLabel('User name').fill('alice');
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await waitForImage(page);
    expect(tokens.requests).toContain('alice repository:private/edge:pull');
    await exportAndCheck(page, 'token.tar', ...EDGE);
  });

  test('the page\'s CSP governs the coordinator: a token service the policy does not name is refused, &allow= allows it', async () => {
    // a registry whose /v2/ answers 200 (so nothing is learnt before the policy is set) and whose
    // manifests want a token from the token server, another origin
    const sneaky = await startProxy(token, [
      { match: (req) => req.url === '/v2/', status: 200, body: '{}' },
    ], { corsOrigin: siteOrigin });
    try {
      const page = await fresh();
      tokens.requests.length = 0;
      await page.goto(image(sneaky, 'public/edge:v1'));
      await banner(page).waitFor();
      const text = await banner(page).innerText();
      expect(text).toContain(`this page's Content-Security-Policy does not allow connections to ${tokens.origin}`);
      expect(text).toContain(`add &allow=${tokens.origin} to the page's address`);
      expect(text).toContain('REGISTRY_BLOCKED');
      expect(tokens.requests).toEqual([]); // refused in the browser: the request never left
      await page.goto(`${image(sneaky, 'public/edge:v1')}&allow=${tokens.origin}`);
      await waitForImage(page);
      expect(tokens.requests).toContain('anonymous repository:public/edge:pull');
    } finally {
      await sneaky.close();
    }
  });
});
