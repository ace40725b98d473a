// The Analysis view in the built site with the real engine: the sample's analysis is computed in
// the analysis worker after the import (from the package databases the decoders kept), equals
// the CLI's, is stored with the image (a reload shows it at once), opens paths in the Files view
// at the right layer, and its SBOM downloads parse; deleting the image deletes the analysis.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatSize } from '../../src/app/lib/format.ts';
import { formatPercent } from '../../src/app/lib/analysis-words.ts';
import { ROOT, download, idbCounts, launchBrowser, newContext, run, startSite, tempDir, unexpected, waitForImage, watchPage, type Site } from './site.ts';

let site: Site;
let browser: Browser;
const out = tempDir('analysis');
const opened: { context: BrowserContext; problems: string[] }[] = [];
/** the CLI's analysis of the same archive: what the page must show */
let cli: {
  waste: { wastedBytes: number; shippedBytes: number; efficiency: number; files: { path: string; layer: number }[] };
  dive: { efficiencyScore: number }; packages: { name: string; removedIn: number | null }[];
  sensitive: { path: string; layer: number; visible: boolean }[];
};

beforeAll(async () => {
  [site, browser] = await Promise.all([startSite(), launchBrowser()]);
  const r = await run(process.execPath, [join(ROOT, 'scripts/strata.mjs'), 'analyze', join(ROOT, 'public/sample.tar'), '--json']);
  if (r.code !== 0) throw new Error(`strata analyze failed: ${r.stderr}`);
  cli = JSON.parse(r.stdout);
}, 180_000);

afterAll(async () => {
  for (const o of opened) expect(unexpected(o.problems)).toEqual([]);
  await browser?.close();
  await site?.close();
  out.remove();
});

async function openSample(): Promise<{ page: Page; context: BrowserContext }> {
  const context = await newContext(browser);
  const page = await context.newPage();
  opened.push({ context, problems: watchPage(page) });
  await page.goto(site.url);
  await page.getByRole('button', { name: 'Try the sample image' }).click();
  await waitForImage(page);
  return { page, context };
}

const section = (page: Page, key: string) => page.locator(`#analysis-${key}`);
const card = (page: Page, key: string) => page.locator(`.card[data-key="${key}"] .value`);
const tab = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

describe('the Analysis view with the real engine', () => {
  test('numbers equal the CLI\'s, the hidden key opens at its layer, SBOMs download, a reload shows the stored analysis at once, delete removes it', { timeout: 180_000 }, async () => {
    const { page } = await openSample();
    await tab(page, 'Analysis').click();
    // the content phase is done when the warnings part says so and no part is still computing
    await expect.poll(async () => (await section(page, 'packages').locator('tbody tr').count()) > 0, { timeout: 60_000 }).toBe(true);
    // no part says it is still computing (the page has other status regions: the offline notice)
    const computing = page.locator('[id^="analysis-"] [role="status"]');
    await expect.poll(() => computing.count(), { timeout: 60_000 }).toBe(0);
    expect(await card(page, 'wasted').textContent()).toBe(formatSize(cli.waste.wastedBytes));
    expect(await card(page, 'shipped').textContent()).toBe(formatSize(cli.waste.shippedBytes));
    expect(await card(page, 'efficiency').textContent()).toBe(formatPercent(cli.waste.efficiency));
    expect(await card(page, 'dive').textContent()).toBe(formatPercent(cli.dive.efficiencyScore));
    // the treemap is drawn (a canvas with painted pixels)
    const painted = await section(page, 'treemap').locator('canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4 * 97) if (d[i] > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(100);
    // packages: the squashed scope by default has what the CLI says the merged filesystem has
    const text = await section(page, 'packages').innerText();
    for (const p of cli.packages.filter((x) => x.removedIn === null)) expect(text).toContain(p.name);

    // the key deleted in layer 3 still ships in layer 1: opening it lands on it at layer 1
    const key = cli.sensitive.find((s) => s.path === '/root/.ssh/id_ed25519' && !s.visible)!;
    expect(key).toBeDefined();
    const hidden = section(page, 'hidden').locator('tr.hidden-secret').filter({ hasText: key.path });
    await expect.poll(() => hidden.count()).toBe(1);
    expect(await hidden.innerText()).toMatch(/hidden in layer 3, still shipped/);
    await hidden.getByRole('button', { name: key.path }).click();
    await page.getByRole('tree').waitFor();
    await expect.poll(() => page.locator('header').innerText()).toContain(`layer ${key.layer}/3`);
    await expect.poll(() => page.getByRole('region', { name: 'Details' }).locator('.path').textContent()).toBe(key.path);
    expect(page.url()).toContain(`path=${key.path}`);

    // SBOMs from the stored analysis
    await tab(page, 'Analysis').click();
    const sbomSection = section(page, 'sbom');
    const cdx = await download(page, () => sbomSection.getByRole('button', { name: 'Download CycloneDX 1.6 (all layers)' }).click(), join(out.dir, 'all.cdx.json'));
    const doc = JSON.parse(readFileSync(cdx.path, 'utf8'));
    expect(doc.specVersion).toBe('1.6');
    const components = (doc.components as { type: string; group?: string; name: string }[])
      .filter((c) => c.type !== 'operating-system').map((c) => (c.group ? `${c.group}/${c.name}` : c.name));
    expect(components.sort()).toEqual(cli.packages.map((p) => p.name).sort());
    const spdx = await download(page, () => sbomSection.getByRole('button', { name: 'Download SPDX 2.3 (final image)' }).click(), join(out.dir, 'final.spdx.json'));
    const sdoc = JSON.parse(readFileSync(spdx.path, 'utf8'));
    expect(sdoc.spdxVersion).toBe('SPDX-2.3');
    expect(sdoc.packages.some((p: { name: string }) => p.name === 'curl')).toBe(false); // removed in layer 3

    // stored with the image: after a reload the analysis is there at once, not computed again
    await page.reload();
    await page.getByRole('heading', { name: 'Analysis', exact: true }).waitFor();
    await card(page, 'wasted').waitFor({ timeout: 5_000 });
    expect(await card(page, 'wasted').textContent()).toBe(formatSize(cli.waste.wastedBytes));
    expect(await page.locator('[id^="analysis-"] [role="status"]').count()).toBe(0);
    expect((await idbCounts(page))['strata-analysis/analysis']).toBeGreaterThan(0);

    // deleting the image deletes its analysis and captured files
    await tab(page, 'Stored images').click();
    await page.getByRole('button', { name: /^Delete strata-sample/ }).first().click();
    await page.getByRole('button', { name: /^Confirm delete strata-sample/ }).click();
    await expect.poll(async () => Object.values(await idbCounts(page)).reduce((a, b) => a + b, 0), { timeout: 30_000 }).toBe(0);
  });
});
