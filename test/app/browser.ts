// Real-Chromium harness for UI tests: a Vite dev server over test/app/harness and a headless page.
import { createServer, type ViteDevServer } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { launchBrowser, requireChromium } from '../browser/site.ts';

export interface Harness { server: ViteDevServer; browser: Browser; url: string; close(): Promise<void> }

export async function startHarness(): Promise<Harness> {
  requireChromium(); // a missing browser fails the tests with a clear message; they are never skipped
  const root = fileURLToPath(new URL('./harness/', import.meta.url));
  const server = await createServer({
    configFile: fileURLToPath(new URL('../../vite.config.ts', import.meta.url)),
    root, logLevel: 'error', server: { host: '127.0.0.1', port: 0 },
  });
  await server.listen();
  const addr = server.httpServer!.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const browser = await launchBrowser();
  return {
    server, browser, url: `http://127.0.0.1:${port}/`,
    async close() { await browser.close(); await server.close(); },
  };
}

/** A page with console errors collected (a test fails on any). */
export async function openPage(h: Harness, opts: { colorScheme?: 'light' | 'dark'; hash?: string; search?: string } = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await h.browser.newPage({ colorScheme: opts.colorScheme ?? 'dark', viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(h.url + (opts.search ?? '') + (opts.hash ?? ''));
  return { page, errors };
}
