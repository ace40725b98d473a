// The Analysis view in headless Chromium: the real App over the in-memory engine and the
// hand-built analyses of test/app/analysis-image.ts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import type { AnalysisState } from '../../src/core/analysis/types.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { formatSize } from '../../src/app/lib/format.ts';
import { formatPercent } from '../../src/app/lib/analysis-words.ts';
import { layoutTreemap } from '../../src/app/lib/treemap.ts';
import { buildTree } from '../core/tree/tree-builder.ts';
import { openPage, startHarness, type Harness } from './browser.ts';
import { MemoryEngine } from './memory-engine.ts';
import { SAMPLE_ANALYSIS, WEBAPP_ANALYSIS, WEBAPP_LAYERS } from './analysis-image.ts';

let h: Harness;
const pages: { page: Page; errors: string[] }[] = [];

async function fresh(opts: Parameters<typeof openPage>[1] = {}) {
  const p = await openPage(h, opts);
  pages.push(p);
  return p;
}

async function openImage(page: Page, name: 'webapp.tar' | 'sample.tar') {
  await page.evaluate((n) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], n));
    for (const type of ['dragenter', 'dragover', 'drop']) window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, cancelable: true }));
  }, name);
  await page.getByRole('tree').waitFor();
}

async function openAnalysis(page: Page, name: 'webapp.tar' | 'sample.tar' = 'webapp.tar') {
  await openImage(page, name);
  await page.getByRole('button', { name: 'Analysis', exact: true }).click();
  await page.getByRole('heading', { name: 'Analysis', exact: true }).waitFor();
}

const emit = (page: Page, id: string, state: AnalysisState) => page.evaluate(([i, s]) =>
  (globalThis as unknown as { engine: { emitAnalysis: (id: string, s: unknown) => void } }).engine.emitAnalysis(i as string, s), [id, state] as const);

const section = (page: Page, key: string) => page.locator(`#analysis-${key}`);
const card = (page: Page, key: string) => page.locator(`.card[data-key="${key}"] .value`);
const packageRows = (page: Page) => section(page, 'packages').locator('tbody tr');

describe('Analysis view in Chromium', () => {
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => {
    for (const p of pages) expect(p.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
    await h?.close();
  });

  test('the tab shows the headline numbers, is in the URL, survives a reload; back returns to Files', async () => {
    // preloaded: a reload starts a new in-memory engine, which imports the image again as img1
    const { page } = await fresh({ search: '?preload=webapp.tar', hash: '#image=img1' });
    await page.getByRole('tree').waitFor();
    await page.getByRole('button', { name: 'Analysis', exact: true }).click();
    await expect.poll(() => page.url()).toContain('view=analysis');
    const w = WEBAPP_ANALYSIS.waste;
    const want = {
      size: formatSize(WEBAPP_ANALYSIS.dive.sizeBytes), final: formatSize(w.finalBytes), shipped: formatSize(w.shippedBytes),
      wasted: formatSize(w.wastedBytes), efficiency: formatPercent(w.efficiency), dive: formatPercent(WEBAPP_ANALYSIS.dive.efficiencyScore),
    };
    const shown = async () => Object.fromEntries(await Promise.all(Object.keys(want).map(async (k) => [k, await card(page, k).textContent()])));
    await card(page, 'wasted').waitFor();
    expect(await shown()).toEqual(want);
    expect(want.efficiency).not.toBe(want.dive);
    // each number has its definition behind a "?"
    await page.getByLabel('What is “dive\'s efficiency”?').click();
    await expect.poll(() => section(page, 'summary').innerText()).toContain('dive issue #684');

    await page.getByRole('navigation', { name: 'Analysis sections' }).getByRole('button', { name: 'Packages' }).click();
    await expect.poll(() => page.url()).toContain('section=packages');
    await page.reload();
    await section(page, 'packages').locator('tbody tr').first().waitFor();
    expect(await page.getByRole('button', { name: 'Analysis', exact: true }).getAttribute('aria-current')).toBe('page');
    expect(await shown()).toEqual(want);
    // the section the URL names is scrolled into view
    await expect.poll(() => section(page, 'packages').evaluate((e) => {
      const main = document.querySelector('main')!;
      return main.scrollTop > 0 && Math.abs(e.getBoundingClientRect().top - main.getBoundingClientRect().top) < 80;
    })).toBe(true);
    await page.goBack();
    await page.getByRole('tree').waitFor();
    expect(page.url()).not.toContain('view=analysis');
    expect(await page.getByRole('button', { name: 'Files', exact: true }).getAttribute('aria-current')).toBe('page');
  });

  test('while running: progress per part; the result arrives through onAnalysis', async () => {
    const { page } = await fresh();
    await openAnalysis(page, 'sample.tar');
    await emit(page, 'img1', { status: 'running', progress: { phase: 'measuring space', done: 3, total: 10 }, result: null });
    await expect.poll(() => section(page, 'summary').innerText()).toContain('Still computing');
    expect(await section(page, 'summary').innerText()).toContain('measuring space, 3 of 10');
    expect(await section(page, 'packages').getByRole('status').innerText()).toContain('Still computing the package list');
    expect(await card(page, 'wasted').count()).toBe(0);
    // the treemap needs no analysis
    expect(await section(page, 'treemap').locator('canvas').count()).toBe(1);

    const space = { ...SAMPLE_ANALYSIS, phases: { space: true, packages: false, content: false } };
    await emit(page, 'img1', { status: 'running', progress: { phase: 'reading package databases', done: 1, total: 4 }, result: space });
    await expect.poll(() => card(page, 'wasted').textContent()).toBe('33 B');
    expect(await section(page, 'packages').innerText()).toContain('reading package databases, 1 of 4');
    await emit(page, 'img1', { status: 'done', progress: null, result: SAMPLE_ANALYSIS });
    await expect.poll(() => section(page, 'packages').innerText()).toContain('No packages found');
    expect(await section(page, 'warnings').innerText()).toContain('No warnings');
    expect(await page.getByRole('status').count()).toBe(0);
  });

  test('failed: the error is shown without a stack trace; what was found before still shows', async () => {
    const { page } = await fresh();
    await openAnalysis(page, 'sample.tar');
    await emit(page, 'img1', {
      status: 'failed', progress: null, result: { ...SAMPLE_ANALYSIS, phases: { space: true, packages: false, content: false } },
      error: { code: 'IO', message: 'Reading layer 2 for the package databases failed: the stored content is missing.\n    at readLayer (analysis.worker.js:41:7)' },
    });
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.innerText()).toContain('the stored content is missing');
    expect(await alert.innerText()).toContain('The analysis of this image failed');
    expect(await page.locator('main').innerText()).not.toMatch(/analysis\.worker\.js|\bat readLayer/);
    expect(await card(page, 'wasted').textContent()).toBe('33 B');
    expect(await section(page, 'packages').innerText()).toContain('the analysis failed');
  });

  test('a wasted file, a hidden secret and a warning open the Files view at the layer that shipped them', async () => {
    const { page } = await fresh();
    await openAnalysis(page);
    const details = page.getByRole('region', { name: 'Details' });
    const cases: [string, string, number][] = [
      ['waste', '/var/cache/debconf/templates.dat', 1],
      ['hidden', '/root/.ssh/id_rsa', 3],
      ['warnings', '/usr/local/lib/python3.11/site-packages/broken-0.1.dist-info/METADATA', 3],
    ];
    for (const [where, path, layer] of cases) {
      await page.getByRole('button', { name: 'Analysis', exact: true }).click();
      // by keyboard: the link, then Enter; the keyboard lands in the tree
      await section(page, where).getByRole('button', { name: path, exact: true }).first().focus();
      await page.keyboard.press('Enter');
      await page.getByRole('tree').waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('tree');
      await expect.poll(() => page.url()).toContain(`path=${path}`);
      expect(page.url()).toContain(`layer=${layer - 1}`);
      expect(await page.locator('header').innerText()).toContain(`layer ${layer}/5`);
      const name = path.split('/').pop()!;
      expect(await page.getByRole('treeitem', { name: new RegExp(`^${name.replace(/\./g, '\\.')},`) }).getAttribute('aria-selected')).toBe('true');
      await expect.poll(() => details.innerText()).toContain(path);
    }
    // a visible path opens at the current layer
    await page.getByRole('button', { name: 'Analysis', exact: true }).click();
    await section(page, 'hidden').getByRole('button', { name: '/app/.env', exact: true }).click();
    await expect.poll(() => page.url()).toContain('path=/app/.env');
    expect(page.url()).toContain('layer=2'); // the layer the last jump left the Files view at, where .env exists
  });

  test('the hidden secret is set apart from the visible one', async () => {
    const { page } = await fresh();
    await openAnalysis(page);
    const hidden = section(page, 'hidden');
    expect(await hidden.getByRole('note').innerText()).toContain('1 possible secret is deleted or overwritten but still shipped');
    const row = hidden.locator('table.sensitive').getByRole('row', { name: /id_rsa/ });
    expect(await row.innerText()).toContain('hidden in layer 4, still shipped');
    expect(await row.getAttribute('class')).toContain('hidden-secret');
    expect(await hidden.locator('table.sensitive').getByRole('row', { name: /\.env/ }).getAttribute('class')).not.toContain('hidden-secret');
    expect(await hidden.getByRole('columnheader').allInnerTexts()).toContain('Where');
  });

  test('treemap: drawn on a canvas; hover names a file; a click on a known rectangle opens it; zoom and changes-only', async () => {
    const { page } = await fresh();
    await openAnalysis(page);
    const canvas = section(page, 'treemap').locator('canvas');
    const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let opaque = 0;
      const colours = new Set<number>();
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) { opaque++; colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); }
      return { share: opaque / (d.length / 4), colours: colours.size };
    });
    expect(painted.share).toBeGreaterThan(0.9);
    expect(painted.colours).toBeGreaterThan(5);

    // lay the same tree out in Node at the canvas' size: rectangles land where the page drew them
    const box = (await canvas.boundingBox())!;
    const ft = new FileTree(buildTree(WEBAPP_LAYERS));
    const layout = layoutTreemap(ft, 4, { width: Math.round(box.width), height: Math.round(box.height) });
    const centre = (path: string) => {
      const r = layout.rects.find((x) => x.data.node === ft.lookup(path))!;
      return { x: box.x + (r.x0 + r.x1) / 2, y: box.y + (r.y0 + r.y1) / 2 };
    };
    const curl = centre('/usr/bin/curl');
    await page.mouse.move(curl.x, curl.y);
    const tip = section(page, 'treemap').locator('.tip');
    await expect.poll(() => tip.innerText()).toContain('/usr/bin/curl');
    expect(await tip.innerText()).toContain('layer 2');
    await page.mouse.click(curl.x, curl.y);
    await page.getByRole('tree').waitFor();
    await expect.poll(() => page.url()).toContain('path=/usr/bin/curl');
    expect(page.url()).toContain('layer=4');
    expect(await page.getByRole('treeitem', { name: /^curl,/ }).getAttribute('aria-selected')).toBe('true');

    // the keyboard way: the largest entries as buttons; a directory zooms in
    await page.getByRole('button', { name: 'Analysis', exact: true }).click();
    await page.getByRole('button', { name: 'Zoom into /usr' }).focus();
    await page.keyboard.press('Enter');
    const crumbs = page.getByRole('navigation', { name: 'Treemap zoom' });
    await expect.poll(() => crumbs.innerText()).toMatch(/\(root\)\s*\/\s*usr/);
    expect(await section(page, 'treemap').getByRole('img').getAttribute('aria-label')).toContain('Treemap of /usr at layer 5');
    expect(await page.getByRole('heading', { name: 'Largest in /usr' }).count()).toBe(1);
    await crumbs.getByRole('button', { name: 'Zoom out to /' }).click();
    await expect.poll(() => section(page, 'treemap').getByRole('img').getAttribute('aria-label')).toContain('Treemap of / at layer 5: 22 files');
    await section(page, 'treemap').getByLabel("only this layer's changes").check();
    await expect.poll(() => section(page, 'treemap').getByRole('img').getAttribute('aria-label')).toContain(': 3 files');
    expect(await section(page, 'treemap').getByRole('list', { name: 'Layer colours' }).innerText()).toBe('layer 5');
  });

  test('packages: ecosystem, scope and search change the rows; removed versions say where they went', async () => {
    const { page } = await fresh();
    await openAnalysis(page);
    const pk = section(page, 'packages');
    expect(await packageRows(page).count()).toBe(11);
    expect(await pk.getByRole('radio', { name: /All layers/ }).getAttribute('value')).toBe('all-layers');
    await pk.getByRole('combobox').selectOption('pypi');
    await expect.poll(() => packageRows(page).count()).toBe(2);
    await pk.getByRole('radio', { name: /All layers/ }).check();
    await expect.poll(() => packageRows(page).count()).toBe(4);
    await pk.getByRole('radio', { name: /per-layer scanner/ }).check();
    await expect.poll(() => packageRows(page).allInnerTexts()).toEqual([
      expect.stringMatching(/^requests\s+2\.31\.0\s+upgraded to 2\.32\.3\s+pypi\s+layer 3\s+removed in layer 5\s/),
      expect.stringMatching(/^setuptools\s+68\.0\.0\s+pypi\s+layer 3\s+removed in layer 5\s/),
    ]);
    await pk.getByRole('radio', { name: /Upgraded in place/ }).check();
    await expect.poll(() => packageRows(page).count()).toBe(1);
    await pk.getByRole('combobox').selectOption('all');
    await expect.poll(() => packageRows(page).count()).toBe(2);
    await pk.getByRole('radio', { name: /All layers/ }).check();
    await pk.getByRole('searchbox', { name: 'Search packages' }).fill('bsd-3');
    await expect.poll(() => packageRows(page).locator('td:first-child').allInnerTexts()).toEqual(['Flask', 'stdlibamd64']);
    expect(await pk.getByText('2 packages shown').count()).toBe(1);
    await pk.getByRole('searchbox', { name: 'Search packages' }).fill('no such thing');
    await expect.poll(() => pk.innerText()).toContain('No package matches these filters');
    // a removed version's database opens at the layer that had it
    await pk.getByRole('searchbox', { name: 'Search packages' }).fill('setuptools');
    await pk.getByRole('button', { name: /setuptools-68\.0\.0\.dist-info\/METADATA$/ }).click();
    await expect.poll(() => page.url()).toContain('path=/usr/local/lib/python3.11/site-packages/setuptools-68.0.0.dist-info/METADATA');
    expect(page.url()).toContain('layer=2');
  });

  test('SBOM downloads: the file is what the engine returned', async () => {
    const { page } = await fresh();
    await openAnalysis(page);
    for (const [name, format, scope, file] of [
      ['Download SPDX 2.3 (all layers)', 'spdx', 'all-layers', 'webapp_1.4-all-layers.spdx.json'],
      ['Download CycloneDX 1.6 (final image)', 'cyclonedx', 'squashed', 'webapp_1.4-squashed.cdx.json'],
    ] as const) {
      const download = page.waitForEvent('download');
      await section(page, 'sbom').getByRole('button', { name }).click();
      const d = await download;
      expect(d.suggestedFilename()).toBe(file);
      expect(readFileSync(await d.path())).toEqual(Buffer.from(MemoryEngine.sbomText('img1', format, scope)));
    }
  });

  test('warnings name the unreadable database; the rest still shows', async () => {
    const { page } = await fresh();
    await openAnalysis(page);
    const warn = section(page, 'warnings');
    expect(await warn.innerText()).toContain('/usr/local/lib/python3.11/site-packages/broken-0.1.dist-info/METADATA');
    expect(await warn.innerText()).toContain('Not a Python METADATA file');
    expect(await page.getByRole('button', { name: '1 warning' }).count()).toBe(1);
    expect(await packageRows(page).count()).toBe(11);
  });

  test('tens of thousands of wasted files: the table shows a page at a time', async () => {
    const { page } = await fresh();
    await openAnalysis(page, 'sample.tar');
    const files = Array.from({ length: 25_000 }, (_, i) => ({ path: `/gen/f${i}`, layer: 1, size: 25_000 - i, supersededIn: 2, how: 'deleted' as const }));
    await emit(page, 'img1', { status: 'done', progress: null, result: { ...SAMPLE_ANALYSIS, waste: { ...SAMPLE_ANALYSIS.waste, files } } });
    const waste = section(page, 'waste');
    await expect.poll(() => waste.innerText()).toContain('1–100 of 25,000');
    expect(await waste.locator('table').first().locator('tbody tr').count()).toBe(100);
    await waste.getByRole('button', { name: 'Next page of Wasted files' }).click();
    await expect.poll(() => waste.innerText()).toContain('101–200 of 25,000');
    expect(await waste.locator('table').first().locator('tbody tr').first().innerText()).toContain('/gen/f100');
    expect(await waste.getByRole('button', { name: 'Previous page of Wasted files' }).isEnabled()).toBe(true);
  });

  test('the layers pane shows what each layer wastes, once the analysis has it', async () => {
    const { page } = await fresh();
    await openImage(page, 'webapp.tar');
    const layers = page.getByRole('region', { name: 'Layers' });
    const wasted = WEBAPP_ANALYSIS.waste.layers.map((l) => l.wastedBytes);
    await expect.poll(() => layers.getByRole('button', { name: /^#3 / }).innerText()).toContain(`wastes ${formatSize(wasted[2])}`);
    expect(await layers.getByRole('button', { name: /^#1 / }).innerText()).toContain(`wastes ${formatSize(wasted[0])}`);
    expect(wasted[4]).toBe(0);
    expect(await layers.getByRole('button', { name: /^#5 / }).innerText()).not.toContain('wastes');
    await emit(page, 'img1', { status: 'running', progress: null, result: null });
    await expect.poll(() => layers.innerText()).not.toContain('wastes');
  });

  test('narrow layout: the view fits 800 px without sideways scrolling; only the main area scrolls', async () => {
    const { page } = await fresh();
    await page.setViewportSize({ width: 800, height: 700 });
    await openAnalysis(page);
    await section(page, 'packages').locator('tbody tr').first().waitFor();
    const fits = await page.evaluate(() => {
      const main = document.querySelector('main')!;
      const doc = document.documentElement;
      // only <main> scrolls: nothing (such as a visually hidden caption far down) makes the page taller
      return { main: main.scrollWidth - main.clientWidth, doc: doc.scrollWidth - window.innerWidth, docTall: doc.scrollHeight - window.innerHeight };
    });
    expect(fits).toEqual({ main: 0, doc: 0, docTall: 0 });
    const canvas = (await section(page, 'treemap').locator('canvas').boundingBox())!;
    expect(canvas.width).toBeLessThanOrEqual(800);
  });

  test.each(['light', 'dark'] as const)('%s theme: text in the Analysis view is readable (WCAG contrast ≥ 4.5)', async (scheme) => {
    const { page } = await fresh({ colorScheme: scheme });
    await openAnalysis(page);
    const checks: [string, string][] = [
      ['card label', '.card .label'], ['card value', '.card[data-key=final] .value'], ['wasted value', '.card[data-key=wasted] .value'],
      ['table header', '#analysis-waste th'], ['path link', '#analysis-waste td button.link'], ['table cell', '#analysis-waste td.mono'],
      ['hidden secret', '.hidden-secret .tag'], ['hidden secret link', '.hidden-secret button.link'], ['secret warning', '#analysis-hidden .warning'],
      ['removed package', '#analysis-packages .gone'], ['layer badge', '#analysis-packages .badge'], ['warning text', '#analysis-warnings li div div'],
      ['warning link', '#analysis-warnings button.link'], ['muted note', '#analysis-waste p.muted'], ['legend', '#analysis-treemap .legend li'],
    ];
    await section(page, 'packages').getByRole('radio', { name: /All layers/ }).check();
    for (const [what, sel] of checks) {
      const [fg, bg] = await page.locator(sel).first().evaluate((e) => {
        // the backgrounds the text is drawn on, translucent ones laid over what is below them
        const layers: number[][] = [];
        for (let el: Element | null = e; el; el = el.parentElement) {
          const c = getComputedStyle(el).backgroundColor.match(/[\d.]+/g)!.map(Number);
          const a = c.length > 3 ? c[3] : 1;
          if (a > 0) layers.push([c[0], c[1], c[2], a]);
          if (a === 1) break;
        }
        let rgb = [255, 255, 255];
        for (const [r, g, b, a] of layers.reverse()) rgb = [r * a + rgb[0] * (1 - a), g * a + rgb[1] * (1 - a), b * a + rgb[2] * (1 - a)];
        return [getComputedStyle(e).color, `rgb(${rgb.map(Math.round).join(', ')})`];
      });
      expect(contrast(fg, bg), `${what}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});

/** WCAG contrast ratio of two computed CSS colours; a translucent background is laid over the page's */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = c.match(/[\d.]+/g)!.slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
