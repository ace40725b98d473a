// What must survive: the view in the URL hash across reloads and back/forward (reopened from
// IndexedDB), and the whole app with its stored images offline, from the service worker's cache.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import {
  SUB_PATH, buildSite, launchPersistent, serve, startSite, tempDir, unexpected, waitForImage, watchPage, type Site,
} from './site.ts';

let site: Site;
const tmp = tempDir('lifecycle');
const contexts: BrowserContext[] = [];
const problems: string[][] = [];

async function persistent(profile: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await launchPersistent(join(tmp.dir, profile));
  contexts.push(context);
  const page = context.pages()[0] ?? await context.newPage();
  const p = watchPage(page);
  problems.push(p);
  return { context, page, problems: p };
}

const details = (page: Page) => page.getByRole('region', { name: 'Details' });
const header = (page: Page) => page.locator('header').innerText();
const row = (page: Page, name: string) => page.getByRole('treeitem', { name: new RegExp(`^${name.replace(/\./g, '\\.')},`) });
const hashOf = (page: Page) => new URL(page.url()).hash;

async function openSample(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Try the sample image' }).click();
  await waitForImage(page);
}

/** the view a user sees: header layer, pressed mode button, selected row, details path */
async function view(page: Page) {
  return {
    layer: /layer \d+\/\d+/.exec(await header(page))?.[0],
    mode: await page.getByRole('button', { pressed: true }).innerText(),
    selected: await page.locator('[role=treeitem][aria-selected=true]').getAttribute('aria-label'),
    path: await details(page).locator('.path').textContent(),
  };
}

describe('reload, history and offline with the built site', () => {
  beforeAll(async () => { site = await startSite(); });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await site?.close();
    tmp.remove();
    for (const p of problems) expect(unexpected(p)).toEqual([]);
  });

  test('the URL hash holds image, layer, mode and path; reload reopens it from IndexedDB; back/forward restore views', async () => {
    const { page } = await persistent('hash');
    await page.goto(site.url);
    await openSample(page);
    await page.getByRole('button', { name: /^#2 / }).click();
    await page.getByRole('button', { name: "This layer's changes" }).click();
    await page.getByRole('button', { name: 'Expand all' }).click();
    await row(page, 'server.js').locator('.text').click();
    await expect.poll(() => details(page).locator('.path').textContent()).toBe('/app/server.js');
    const hash = hashOf(page);
    expect(hash).toMatch(/^#image=[^&]+&layer=1&mode=changes&path=\/app\/server\.js$/);
    const before = await view(page);
    expect(before).toEqual({ layer: 'layer 2/3', mode: "This layer's changes", selected: 'server.js, file, added, 85 B', path: '/app/server.js' });

    const t0 = Date.now();
    await page.reload();
    await row(page, 'server.js').and(page.locator('[aria-selected=true]')).waitFor();
    await expect.poll(() => details(page).locator('.path').textContent()).toBe('/app/server.js');
    const reopen = Date.now() - t0;
    console.log(`reload → sample reopened from IndexedDB at layer 2, /app/server.js selected: ${reopen} ms`);
    expect(await view(page)).toEqual(before);
    expect(hashOf(page)).toBe(hash);
    // reopened, not re-imported: no import progress was shown, the stored list has one copy
    expect(await page.getByRole('region', { name: 'Import progress' }).count()).toBe(0);

    // a new history entry per layer change and jump
    await page.getByRole('button', { name: /^#3 / }).click();
    await expect.poll(() => header(page)).toContain('layer 3/3');
    await page.getByRole('button', { name: 'Expand all' }).click();
    await row(page, 'config.yaml').locator('.text').click();
    await expect.poll(() => details(page).locator('.path').textContent()).toBe('/etc/app/config.yaml');
    const third = await view(page);
    await page.goBack();
    await expect.poll(() => view(page)).toEqual(before);
    await page.goForward();
    await expect.poll(() => header(page)).toContain('layer 3/3');
    await expect.poll(() => view(page)).toEqual(third);

    // the filter goes into the hash and comes back with a reload, in the box and in the rows
    const filter = page.getByRole('searchbox', { name: /Filter paths/ });
    await filter.fill('*.yaml');
    await filter.press('Enter');
    await expect.poll(() => hashOf(page)).toMatch(/&q=\*\.yaml$/);
    await page.reload();
    await row(page, 'config.yaml').waitFor();
    expect(await filter.inputValue()).toBe('*.yaml');
    expect(await page.getByRole('treeitem').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')!.split(',')[0]))).toEqual(['etc', 'app', 'config.yaml']);
    await filter.fill('');
    await filter.press('Enter');
    await expect.poll(() => hashOf(page)).not.toContain('q=');
    await expect.poll(() => view(page)).toEqual(third);

    // a second tab with the same address shows the same view
    const tab = await page.context().newPage();
    problems.push(watchPage(tab));
    await tab.goto(page.url());
    await waitForImage(tab);
    await expect.poll(() => view(tab)).toEqual(third);

    // Close image: back to the landing page, whose stored list has the sample once
    await page.getByRole('button', { name: 'Close image' }).click();
    expect(hashOf(page)).toBe('');
    await page.getByRole('heading', { name: 'Stored images' }).waitFor();
    expect(await page.getByRole('button', { name: 'Open strata-sample:1.0' }).count()).toBe(1);
    await page.goBack();
    await expect.poll(() => view(page)).toEqual(third);
  });

  test('offline: after the first visit the site and its stored images work with no network and no server', async () => {
    // a server of its own, closed before the offline visit: nothing can come from the network
    const dist = join(tmp.dir, 'offline-dist');
    await buildSite(dist);
    const server = await serve([{ prefix: SUB_PATH, dir: dist }]);
    const url = server.origin + SUB_PATH;
    const first = await persistent('offline');
    await first.page.goto(url);
    const notice = first.page.getByRole('status').filter({ hasText: 'Ready to work offline' });
    await notice.waitFor({ timeout: 30_000 }).catch(async (err) => {
      const sw = await first.page.evaluate(async () => {
        const r = await navigator.serviceWorker.getRegistration();
        return { active: r?.active?.state, installing: r?.installing?.state, waiting: r?.waiting?.state, controlled: !!navigator.serviceWorker.controller };
      });
      throw new Error(`no "Ready to work offline" notice; service worker: ${JSON.stringify(sw)}`, { cause: err });
    });
    expect(await first.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.state)).toBe('activated');
    expect(await first.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope)).toBe(url);
    await openSample(first.page);
    await first.context.close();
    await server.close();
    const seen = server.log.length;

    const again = await persistent('offline');
    await again.context.setOffline(true);
    await again.page.goto(url);
    await again.page.getByRole('heading', { name: 'Inspect a container image' }).waitFor();
    expect(await again.page.evaluate(() => navigator.onLine)).toBe(false);
    const open = again.page.getByRole('button', { name: 'Open strata-sample:1.0' });
    await open.waitFor();
    await open.click();
    await waitForImage(again.page);
    expect(await header(again.page)).toContain('layer 3/3');
    // content comes from IndexedDB
    await again.page.getByRole('searchbox', { name: /Filter paths/ }).fill('/etc/os-release');
    await again.page.getByRole('searchbox', { name: /Filter paths/ }).press('Enter');
    await row(again.page, 'os-release').locator('.text').click();
    await expect.poll(() => details(again.page).locator('pre').textContent()).toContain('NAME="Strata sample"');
    // and the sample itself was precached
    await again.page.getByRole('button', { name: 'Close image' }).click();
    await openSample(again.page);
    expect(server.log.length).toBe(seen);
  });
});
