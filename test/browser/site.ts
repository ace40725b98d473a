// End-to-end helpers: build the real site once per test file, serve it from a sub-path with a tiny
// static server (other servers give fixtures with or without CORS), and drive Debian's Chromium.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Download, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SHARED = resolve(ROOT, '../shared');
export const FIXTURES = join(SHARED, 'fixtures');
export const TOOLS = join(SHARED, 'tools');

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** the launch flags this machine needs: no background connections to a closed network */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run'];

/** The browser tests fail (never skip) when Chromium is missing: `.ci/run` installs it. */
export function requireChromium(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` (.ci/run does) ` +
      'or set CHROMIUM_PATH; the end-to-end tests never download a browser.');
  }
  return CHROMIUM;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `strata-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult { code: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((done) => {
    const o = { cwd: opts.cwd ?? ROOT, timeout: opts.timeout ?? 120_000, maxBuffer: 256 << 20, env: opts.env ?? process.env };
    execFile(cmd, args, o, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `vite build` of the real site (workers, service worker, sample) into `outDir`. */
export async function buildSite(outDir: string): Promise<void> {
  const vite = join(ROOT, 'node_modules/vite/bin/vite.js');
  // Vitest sets NODE_ENV=test, which a child `vite build` would inherit: import.meta.env.PROD would
  // be false (no service worker) and Svelte would compile in dev mode. Build what users get.
  const env = { ...process.env, NODE_ENV: 'production' };
  const r = await run(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { env });
  if (r.code !== 0 || !existsSync(join(outDir, 'sw.js'))) throw new Error(`vite build failed (${r.code}):\n${r.stderr}${r.stdout}`);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.tar': 'application/x-tar', '.gz': 'application/gzip', '.tsv': 'text/plain',
};

export interface Mount {
  prefix: string;
  dir: string;
  cors?: boolean;
  /** bytes per second: send files slowly, so a download's progress can be seen */
  rate?: number;
}

export interface StaticServer {
  origin: string;
  /** requests seen, as "METHOD /path" (to prove what the page fetched) */
  log: string[];
  close(): Promise<void>;
}

/** A static file server: each URL prefix maps to a folder; `prefix` without its trailing slash redirects. */
export async function serve(mounts: Mount[]): Promise<StaticServer> {
  const log: string[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    log.push(`${req.method} ${path}`);
    const m = mounts.find((x) => path.startsWith(x.prefix) || path === x.prefix.replace(/\/$/, ''));
    if (!m) { res.writeHead(404).end('not found'); return; }
    if (m.cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Length');
    }
    if (!path.startsWith(m.prefix)) { res.writeHead(301, { Location: m.prefix }).end(); return; }
    let file = normalize(join(m.dir, path.slice(m.prefix.length)));
    if (file !== m.dir && !file.startsWith(m.dir.endsWith(sep) ? m.dir : m.dir + sep)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) { res.writeHead(404).end('not found'); return; }
    const size = statSync(file).size;
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': size, 'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') { res.end(); return; }
    if (m.rate) { void trickle(file, m.rate, res); return; }
    createReadStream(file).pipe(res);
  };
  const server: Server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

async function trickle(file: string, rate: number, res: ServerResponse): Promise<void> {
  const CHUNK = 32 << 10;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
    if (res.destroyed) return;
    res.write(chunk);
    await new Promise((ok) => setTimeout(ok, (1000 * (chunk as Buffer).length) / rate));
  }
  res.end();
}

/** The built site under a sub-path (relative URLs must work there), and a scratch folder. */
export interface Site {
  /** the app's URL, ending in "/" */
  url: string;
  /** a per-run folder for generated inputs and outputs */
  scratch: string;
  server: StaticServer;
  close(): Promise<void>;
}

export const SUB_PATH = '/deep/sub/path/strata/';

export async function startSite(): Promise<Site> {
  requireChromium();
  const tmp = tempDir('site');
  const dist = join(tmp.dir, 'dist');
  const scratch = join(tmp.dir, 'scratch');
  try {
    await buildSite(dist);
  } catch (err) {
    tmp.remove();
    throw err;
  }
  mkdirSync(scratch);
  const server = await serve([{ prefix: SUB_PATH, dir: dist }]);
  return {
    url: server.origin + SUB_PATH,
    scratch,
    server,
    async close() { await server.close(); tmp.remove(); },
  };
}

export interface LaunchOpts { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' }

const contextOpts = (o: LaunchOpts) => ({
  viewport: o.viewport ?? { width: 1400, height: 900 }, colorScheme: o.colorScheme ?? ('light' as const), acceptDownloads: true,
});

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: requireChromium(), headless: true, args: CHROMIUM_ARGS });
}

/** A persistent (on-disk) profile: IndexedDB and the service worker survive reloads as for users. */
export async function launchPersistent(userDataDir: string, o: LaunchOpts = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath: requireChromium(), headless: true, args: CHROMIUM_ARGS, ...contextOpts(o) });
}

export async function newContext(browser: Browser, o: LaunchOpts = {}): Promise<BrowserContext> {
  return browser.newContext(contextOpts(o));
}

/** A built site, a browser and one page on it: what a test file's tests share. */
export interface SitePage { site: Site; browser: Browser; page: Page; problems: string[] }

/** Starts the site and a browser with one page (for beforeAll; closeSitePage in afterAll). */
export async function openSitePage(): Promise<SitePage> {
  const site = await startSite();
  try {
    const browser = await launchBrowser();
    const page = await (await newContext(browser)).newPage();
    return { site, browser, page, problems: watchPage(page) };
  } catch (e) {
    await site.close();
    throw e;
  }
}

export async function closeSitePage(s: SitePage | undefined): Promise<void> {
  await s?.browser.close();
  await s?.site.close();
}

/** Page problems that fail a test: uncaught exceptions and console errors. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  return problems;
}

/** Console errors a test provoked on purpose (a failed fetch, a refused connection) are fine. */
export const unexpected = (problems: string[]) =>
  problems.filter((p) => !/Failed to load resource|net::ERR_|blocked by CORS policy|Failed to fetch/.test(p));

/** Click something that starts a download and save the file; returns the path. */
export async function download(page: Page, click: () => Promise<unknown>, saveTo: string): Promise<{ path: string; name: string }> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]) as [Download, unknown];
  await d.saveAs(saveTo);
  const failure = await d.failure();
  if (failure) throw new Error(`download failed: ${failure}`);
  return { path: saveTo, name: d.suggestedFilename() };
}

/** Choose a file in the (hidden) file input, as the "Open archive…" button would. */
export async function chooseFile(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  await page.locator('input[type=file]').first().setInputFiles(file);
}

/** Count the keys of every object store of every IndexedDB database of the page's origin. */
export function idbCounts(page: Page): Promise<Record<string, number>> {
  // no named inner functions: tsx's keepNames would wrap them in a __name() the page lacks
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const open = indexedDB.open(info.name);
      const db = await new Promise<IDBDatabase>((ok, fail) => { open.onsuccess = () => ok(open.result); open.onerror = () => fail(open.error); });
      for (const store of Array.from(db.objectStoreNames)) {
        const count = db.transaction(store, 'readonly').objectStore(store).count();
        out[`${info.name}/${store}`] = await new Promise<number>((ok, fail) => { count.onsuccess = () => ok(count.result); count.onerror = () => fail(count.error); });
      }
      db.close();
    }
    return out;
  });
}

/** The row names of the tree in screen order (the first part of each accessible name). */
export const rowNames = (page: Page) => page.getByRole('treeitem').evaluateAll((els) => els
  .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
  .map((e) => e.getAttribute('aria-label')!.split(',')[0]));

/** Listing of a tar by the independent Python tool: [main tsv, extra tsv]. */
export async function tarListing(tarPath: string, outDir: string, tag: string): Promise<[string, string]> {
  const main = join(outDir, `${tag}.tsv`), extra = join(outDir, `${tag}-extra.tsv`);
  const r = await run('python3', [join(TOOLS, 'tar-listing.py'), tarPath, main, extra]);
  if (r.code !== 0) throw new Error(`tar-listing.py ${tarPath} failed: ${r.stderr}`);
  return [main, extra];
}

export function checkFlatten(flat: string, expected: string, extra?: string): Promise<RunResult> {
  return run(join(TOOLS, 'check-flatten.sh'), [flat, expected, ...(extra ? [extra] : [])]);
}

/** Wait until an image is open (the tree shows); an error banner instead fails with its text. */
export async function waitForImage(page: Page, timeout = 60_000): Promise<void> {
  const tree = page.getByRole('tree');
  const alert = page.getByRole('alert');
  await tree.or(alert).first().waitFor({ timeout });
  if (await alert.count()) throw new Error(`expected the image to open, got the banner: ${await alert.innerText()}`);
}
