// The Compare view in Chromium over the in-memory engine: picking sides (two layers of the open
// image, two stored images), summary numbers equal to the core's comparison of the same images, the
// differing-paths tree (marks, filters, keyboard), a click on a path showing it in A and B with a
// text diff and opening it in each side's Files view, deep links, hashing progress, the package and
// config tables, light and dark, a narrow window.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, startHarness, type Harness } from './browser.ts';
import { Comparer } from '../../src/core/compare/index.ts';
import type { Comparison } from '../../src/core/compare/types.ts';
import { jsSha256 } from '../../src/core/env.ts';
import type { ImageMeta } from '../../src/core/model.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { buildImage, type Op } from '../core/tree/tree-builder.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';
import { WEBAPP_ANALYSIS_STATE, WEBAPP_LAYERS } from './analysis-image.ts';

let h: Harness;
const pages: { page: Page; errors: string[] }[] = [];
async function fresh(opts: Parameters<typeof openPage>[1] = {}) {
  const p = await openPage(h, opts);
  pages.push(p);
  return p;
}

/** The core's comparison of two in-memory images (as the memory engine builds them), settled. */
async function expected(la: Op[][], ka: number, lb: Op[][], kb: number, same: boolean, packages?: Comparison['packages']): Promise<Comparison> {
  const side = (layers: Op[][], layer: number, id: string) => {
    const { tree, streams } = buildImage(layers);
    const meta = { image: { name: id }, layers: layers.map((_, i) => ({ index: i })), config: { env: [], entrypoint: null, cmd: null, exposedPorts: [], volumes: [], labels: {} }, history: [] } as unknown as ImageMeta;
    return { input: { meta, tree: new FileTree(tree), layer, id }, streams };
  };
  const a = side(la, ka, 'a'), b = same ? { ...side(lb, kb, 'a') } : side(lb, kb, 'b');
  if (same) b.input.tree = a.input.tree;
  const c = new Comparer(a.input, b.input);
  const done = await c.settle(c.summary(), { read: async (s, l, o, n) => (s === 'a' ? a : b).streams[l].slice(o, o + n), sha256: jsSha256 });
  return { ...done, packages: packages ?? null };
}

const summaryText = (page: Page) => page.getByRole('status').filter({ hasText: /added/ }).first().innerText();
const rowNames = (page: Page) => page.getByRole('tree', { name: 'Differing paths' }).getByRole('treeitem').evaluateAll((els) => els
  .sort((x, y) => x.getBoundingClientRect().top - y.getBoundingClientRect().top).map((e) => e.getAttribute('aria-label')!));

async function openSample(page: Page) {
  await page.getByRole('button', { name: 'Try the sample image' }).click();
  await page.getByRole('tree').waitFor();
}

describe('Compare view in Chromium', () => {
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => {
    for (const p of pages) expect(p.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
    await h?.close();
  });

  test('two layers of the open image: summary numbers, tree, a path in A and B, open in each side', async () => {
    const { page } = await fresh();
    await openSample(page);
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    // defaults: the layer before the current one (3) against it
    let want = await expected(SAMPLE_LAYERS, 1, SAMPLE_LAYERS, 2, true);
    await expect.poll(() => summaryText(page)).toContain(`${want.counts.added} added`);
    expect(await summaryText(page)).toMatch(new RegExp(`${want.counts.modified} modified\\s+${want.counts.deleted} deleted`));
    // A as of layer 1
    await page.getByLabel('Layer of A').selectOption('0');
    want = await expected(SAMPLE_LAYERS, 0, SAMPLE_LAYERS, 2, true);
    expect(want.counts).toEqual({ added: 5, modified: 1, deleted: 1, pending: 0 });
    await expect.poll(() => summaryText(page)).toMatch(/^5 added\s+1 modified\s+1 deleted/);
    expect(page.url()).toMatch(/view=compare&a=img1&al=0&b=img1&bl=2/);
    expect(await rowNames(page)).toEqual([
      'app, added, +300 KB', 'big.bin, added, +300 KB', 'conf.d, added, +1 B', 'site.conf, added, +1 B', 'main.js, added, +15 B',
      'etc, holds changes, +35 B', 'passwd, modified (content), +35 B', 'old.txt, deleted, −3 B',
    ]);
    // a click on a path: it in A and in B, with the text diff
    await page.getByRole('treeitem', { name: /^passwd,/ }).click();
    const details = page.getByRole('region', { name: 'Path in A and B' });
    await expect.poll(() => details.innerText()).toContain('/etc/passwd');
    const diff = details.getByLabel('Text differences');
    await expect.poll(() => diff.locator('tr.add').innerText()).toContain('app:x:1000:1000::/home/app:/bin/sh');
    expect(await diff.locator('tr.same').innerText()).toContain('root:x:0:0:root:/root:/bin/sh');
    // sizes differ: decided without a hash
    expect(await details.locator('tr.differs').allInnerTexts()).toEqual([expect.stringMatching(/^Size\s+30 bytes\s+65 bytes$/)]);
    expect(page.url()).toContain('path=/etc/passwd');
    // open it in A: the Files view of the image as of layer 1, the path selected
    await details.getByRole('button', { name: 'Open in A (layer 1)' }).click();
    await expect.poll(() => page.url()).toMatch(/layer=0.*path=\/etc\/passwd/);
    expect(await page.getByRole('treeitem', { name: /^passwd,/ }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.getByRole('region', { name: 'Details' }).locator('pre').textContent()).not.toContain('app:x:1000');
    // back to the comparison, then open it in B
    await page.goBack();
    await expect.poll(() => page.url()).toContain('view=compare');
    await page.getByRole('region', { name: 'Path in A and B' }).getByRole('button', { name: 'Open in B (layer 3)' }).click();
    await expect.poll(() => page.url()).toMatch(/layer=2.*path=\/etc\/passwd/);
    await expect.poll(() => page.getByRole('region', { name: 'Details' }).locator('pre').textContent()).toContain('app:x:1000');
  });

  test('keyboard and filters as in the Files view; the URL holds them and a reload restores the view', async () => {
    const { page } = await fresh({ search: '?preload=sample.tar', hash: '#view=compare&a=img1&al=0&b=img1&bl=2' });
    await expect.poll(() => summaryText(page)).toMatch(/^5 added/);
    const tree = page.getByRole('tree', { name: 'Differing paths' });
    await tree.focus();
    await tree.press('ArrowDown');
    await tree.press('End');
    expect(await page.getByRole('treeitem', { name: /^old\.txt,/ }).getAttribute('aria-selected')).toBe('true');
    await tree.press('Home');
    await tree.press('ArrowLeft'); // collapse app
    expect(await rowNames(page)).toHaveLength(4);
    await tree.press('ArrowRight');
    await tree.press('ArrowRight');
    expect(await page.getByRole('treeitem', { name: /^big\.bin,/ }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('/');
    await page.keyboard.type('*.conf');
    await page.keyboard.press('Enter');
    expect((await rowNames(page)).map((r) => r.split(',')[0])).toEqual(['app', 'conf.d', 'site.conf']);
    await page.getByRole('searchbox').fill('');
    await page.getByRole('searchbox').press('Escape');
    await page.getByRole('checkbox', { name: 'added' }).uncheck();
    expect((await rowNames(page)).map((r) => r.split(',')[0])).toEqual(['etc', 'passwd', 'old.txt']);
    await expect.poll(() => page.url()).toContain('show=modified,deleted');
    await page.getByRole('treeitem', { name: /^old\.txt,/ }).click();
    await page.getByRole('navigation', { name: 'Compare sections' }).getByRole('button', { name: /^Config/ }).click();
    expect(await page.locator('main table').innerText()).toMatch(/History entries\s+changed\s+1\s+3/);
    await expect.poll(() => page.url()).toContain('section=config');
    // the same URL in a new page (a reload: the in-memory engine imports the sample again)
    const again = await fresh({ search: '?preload=sample.tar', hash: new URL(page.url()).hash });
    await expect.poll(() => again.page.locator('main table').innerText()).toMatch(/History entries/);
    await again.page.getByRole('navigation', { name: 'Compare sections' }).getByRole('button', { name: /^Files/ }).click();
    await expect.poll(() => again.page.getByRole('region', { name: 'Path in A and B' }).innerText()).toContain('/old.txt');
    expect(await again.page.getByRole('checkbox', { name: 'added' }).isChecked()).toBe(false);
  });

  test('two stored images: pick them, summary, packages, layers and sizes', async () => {
    const { page } = await fresh({ search: '?preload=sample.tar' });
    await page.locator('input[type=file]').first().setInputFiles({ name: 'webapp.tar', mimeType: 'application/x-tar', buffer: Buffer.from('x') });
    await page.getByRole('tree').waitFor();
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const pick = async (label: string, name: RegExp) => {
      const texts = await page.getByLabel(label).locator('option').allInnerTexts();
      await page.getByLabel(label).selectOption({ label: texts.find((t) => name.test(t))! });
    };
    await pick('Image A', /^sample:latest/);
    await pick('Image B', /^webapp:1\.4/);
    const n = WEBAPP_LAYERS.length;
    const want = await expected(SAMPLE_LAYERS, 2, WEBAPP_LAYERS, n - 1, false);
    await expect.poll(() => summaryText(page)).toMatch(new RegExp(`^${want.counts.added} added\\s+${want.counts.modified} modified\\s+${want.counts.deleted} deleted`));
    expect(await summaryText(page)).toContain('0 shared layers');
    await page.getByRole('navigation', { name: 'Compare sections' }).getByRole('button', { name: /^Packages/ }).click();
    const live = WEBAPP_ANALYSIS_STATE.result!.packages.filter((p) => p.removedIn === null);
    await expect.poll(() => page.locator('main table tbody tr').count()).toBe(live.length);
    expect(await page.locator('main table tbody').innerText()).toContain(`${live[0].name}`);
    await page.getByRole('navigation', { name: 'Compare sections' }).getByRole('button', { name: /^Layers and sizes/ }).click();
    expect(await page.locator('main').innerText()).toContain(`0 leading layers shared (same diff_id) of A's 3 and B's ${n}; new in B: ${Array.from({ length: n }, (_, i) => i + 1).join(', ')}`);
    // swap
    await page.getByRole('button', { name: /Swap/ }).click();
    await expect.poll(() => summaryText(page)).toMatch(new RegExp(`^${want.counts.deleted} added\\s+${want.counts.modified} modified\\s+${want.counts.added} deleted`));
  });

  test('equal sizes from other layers: pending while hashed, with progress; then settled', async () => {
    const { page } = await fresh();
    await page.evaluate(() => {
      const g = globalThis as unknown as { engine: { addArchive: (n: string, i: unknown[]) => void; compareHashDelayMs: number } };
      g.engine.compareHashDelayMs = 1500;
      g.engine.addArchive('touched.tar', [{ name: 'touched:1', layers: [
        [{ op: 'file', path: '/etc/a.conf', attrs: { content: 'abc' } }, { op: 'file', path: '/etc/same', attrs: { content: 'same' } }],
        [{ op: 'file', path: '/etc/a.conf', attrs: { content: 'abd' } }, { op: 'file', path: '/etc/same', attrs: { content: 'same', mtime: 5 } }],
      ] }]);
    });
    await page.locator('input[type=file]').first().setInputFiles({ name: 'touched.tar', mimeType: 'application/x-tar', buffer: Buffer.from('x') });
    await page.getByRole('tree').waitFor();
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await expect.poll(() => summaryText(page)).toMatch(/^0 added\s+0 modified\s+0 deleted\s+2 to check/);
    expect(await page.getByRole('status').filter({ hasText: /added/ }).innerText()).toContain('Checking the content of 4 file versions of equal size');
    expect(await rowNames(page)).toContain('a.conf, content being checked, ±0');
    // stopped: what is decided stays, the rest is marked; checking them again settles it
    const status = page.getByRole('status').filter({ hasText: /added/ });
    await status.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => status.innerText()).toContain('Stopped: 2 files of equal size left unchecked (marked ?).');
    await status.getByRole('button', { name: 'Check them' }).click();
    await expect.poll(() => summaryText(page), { timeout: 10_000 }).toMatch(/^0 added\s+1 modified\s+0 deleted\s/);
    expect(await page.getByRole('status').filter({ hasText: /added/ }).innerText()).toContain('4 file versions of equal size hashed');
    expect(await rowNames(page)).toEqual(['etc, holds changes, ±0', 'a.conf, modified (content), ±0']);
  });

  test('a link to an image that is gone, or to a layer past the end: the error says so, no stack', async () => {
    const { page } = await fresh({ search: '?preload=sample.tar', hash: '#view=compare&a=img1&b=nope' });
    const status = page.getByRole('status').filter({ hasText: /comparison failed/ });
    await expect.poll(() => status.innerText()).toMatch(/^The comparison failed: No stored image nope: it was deleted, or its import did not finish\.$/);
    await page.getByLabel('Image B').selectOption('img1');
    await expect.poll(() => summaryText(page)).toMatch(/^0 added/);
    await page.evaluate(() => { location.hash = '#view=compare&a=img1&al=9&b=img1'; });
    await expect.poll(() => status.innerText()).toBe('The comparison failed: Layer 10 of sample:latest cannot be compared: the image has 3 layers.');
  });

  test('light colours and a narrow window: the panes stack, nothing overflows', async () => {
    const { page } = await fresh({ colorScheme: 'light', search: '?preload=sample.tar', hash: '#view=compare&a=img1&al=0&b=img1&bl=2' });
    await page.setViewportSize({ width: 600, height: 900 });
    await expect.poll(() => summaryText(page)).toMatch(/^5 added/);
    const tree = await page.getByRole('tree', { name: 'Differing paths' }).boundingBox();
    const details = await page.getByRole('region', { name: 'Path in A and B' }).boundingBox();
    expect(details!.y).toBeGreaterThan(tree!.y + tree!.height - 2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(255, 255, 255)');
  });
});
