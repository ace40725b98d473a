// Real-Chromium harness for the storage tests and benchmark: a Vite dev server over
// test/storage/browser and a persistent (on-disk) profile, so IndexedDB and its Blob files hit the
// disk as they do for users (Playwright's default contexts are incognito: IndexedDB in memory).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import type { StorageTestApi } from './browser/page.ts';
import { CHROMIUM_ARGS, requireChromium } from '../browser/site.ts';

type Api = Omit<StorageTestApi, 'storage'>;


export interface StoragePage {
  page: Page;
  /** calls one function of the page's test API; arguments and result cross as JSON-like values */
  call<K extends keyof Api>(name: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>>;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function openStoragePage(opts: { incognito?: boolean; args?: string[] } = {}): Promise<StoragePage> {
  const tmp = mkdtempSync(join(tmpdir(), 'strata-storage-'));
  const server: ViteDevServer = await createServer({
    configFile: false, root: fileURLToPath(new URL('./browser/', import.meta.url)),
    // Its own dependency cache: a shared node_modules/.vite, re-optimized by another test's server
    // with another config, makes Vite reload this page in the middle of a test.
    cacheDir: join(tmp, 'vite'), optimizeDeps: { include: ['idb-keyval'] },
    logLevel: 'error', server: { host: '127.0.0.1', port: 0 },
  });
  await server.listen();
  const addr = server.httpServer!.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  const chromiumPath = requireChromium();
  const args = [...CHROMIUM_ARGS, ...(opts.args ?? [])];
  const context: BrowserContext = opts.incognito
    ? await (await chromium.launch({ executablePath: chromiumPath, args })).newContext()
    : await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: chromiumPath, args });
  const page = context.pages()[0] ?? await context.newPage();
  const ready = () => page.waitForFunction(() => 'storageTest' in globalThis);
  await page.goto(url);
  await ready();
  return {
    page,
    call: (name, ...args) => page.evaluate(
      ([n, a]) => ((globalThis as unknown as { storageTest: Record<string, (...x: unknown[]) => Promise<never>> }).storageTest[n])(...a),
      [name as string, args as unknown[]] as const),
    async reload() { await page.reload(); await ready(); },
    async close() {
      await context.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
