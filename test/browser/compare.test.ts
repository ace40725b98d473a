// The Compare view in the built site with the real engine (coordinator, compare worker, IndexedDB):
// the summary equals `strata diff --json` of the same archives — two layers of the sample (with
// its packages from the analyses: curl removed, libssl3 upgraded), and two gzip images built here
// whose equal-sized files come from other layers, so the compare worker hashes them from the
// stored (expanded) content; a path opens in each side's Files view.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { dockerArchive, tar } from '../helpers/build.ts';
import { formatSize } from '../../src/app/lib/format.ts';
import { ROOT, chooseFile, launchBrowser, newContext, run, startSite, unexpected, waitForImage, watchPage, type Site } from './site.ts';

let site: Site;
let browser: Browser;
const opened: { context: BrowserContext; problems: string[] }[] = [];

beforeAll(async () => { [site, browser] = await Promise.all([startSite(), launchBrowser()]); }, 180_000);
afterAll(async () => {
  for (const o of opened) expect(unexpected(o.problems)).toEqual([]);
  await browser?.close();
  await site?.close();
});

interface CliDiff { files: { path: string; change: string; what: string[] }[]; counts: { added: number; modified: number; deleted: number }; sizeA: number; sizeB: number; sharedLayers: number; hashed: { files: number }; packages: { name: string; change: string }[] }

async function cliDiff(args: string[]): Promise<CliDiff> {
  const r = await run(process.execPath, [join(ROOT, 'scripts/strata.mjs'), 'diff', ...args, '--json']);
  if (r.code !== 0) throw new Error(`strata diff failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as CliDiff;
}

async function page(): Promise<Page> {
  const context = await newContext(browser);
  const p = await context.newPage();
  opened.push({ context, problems: watchPage(p) });
  await p.goto(site.url);
  return p;
}

const summary = (p: Page) => p.getByRole('status').filter({ hasText: /added/ }).innerText();
const sections = (p: Page) => p.getByRole('navigation', { name: 'Compare sections' });
const summaryOf = (c: CliDiff) => new RegExp(`^${c.counts.added} added\\s+${c.counts.modified} modified\\s+${c.counts.deleted} deleted\\s+·\\s+size ${formatSize(c.sizeA)} → ${formatSize(c.sizeB)}.*${c.sharedLayers} shared layers?`, 's');

describe('Compare with the real engine', () => {
  test('two layers of the sample: files, sizes and packages as strata diff says; a path opens in each side', { timeout: 180_000 }, async () => {
    const cli = await cliDiff([join(ROOT, 'public/sample.tar'), join(ROOT, 'public/sample.tar'), '--layer-a', '2']);
    const p = await page();
    await p.getByRole('button', { name: 'Try the sample image' }).click();
    await waitForImage(p);
    await p.getByRole('button', { name: 'Compare', exact: true }).click();
    // the open image at its last layer: A defaults to the layer before
    await expect.poll(() => summary(p), { timeout: 30_000 }).toMatch(summaryOf(cli));
    await sections(p).getByRole('button', { name: /^Packages/ }).click();
    await expect.poll(() => p.locator('main table tbody').innerText(), { timeout: 60_000 }).toMatch(/curl:amd64\s+removed\s+7\.88\.1-10\+deb12u5/);
    expect(await p.locator('main table tbody tr').count()).toBe(cli.packages.length);
    expect(await p.locator('main table tbody').innerText()).toMatch(/libssl3:amd64\s+version changed\s+3\.0\.11-1~deb12u2\s+3\.0\.13-1~deb12u1/);
    await sections(p).getByRole('button', { name: /^Files/ }).click();
    const modified = cli.files.find((f) => f.change === 'modified' && f.what.includes('content'))!;
    await p.getByRole('treeitem', { name: new RegExp(`^${modified.path.split('/').pop()!.replace(/\./g, '\\.')},`) }).click();
    const details = p.getByRole('region', { name: 'Path in A and B' });
    await expect.poll(() => details.innerText()).toContain(modified.path);
    await expect.poll(() => details.getByLabel('Text differences').locator('tr.changed, tr.add, tr.del').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await details.getByRole('button', { name: /^Open in B/ }).click();
    await expect.poll(() => p.url()).toContain(`path=${modified.path}`);
    expect(p.url()).toContain('layer=2');
  });

  test('a link to images that are not stored: the coordinator\'s error, one line, no stack', { timeout: 60_000 }, async () => {
    const p = await page();
    await p.goto(`${site.url}#view=compare&a=nope&b=nope`);
    const status = p.getByRole('status').filter({ hasText: /comparison failed/ });
    await expect.poll(() => status.innerText(), { timeout: 30_000 }).toBe('The comparison failed: No stored image nope: it was deleted, or its import did not finish.');
  });

  test('two images whose equal-sized files come from other layers: hashed from stored content, then equal to strata diff', { timeout: 180_000 }, async () => {
    const base = tar([{ name: 'etc/', kind: 'dir' }, { name: 'etc/big', data: 'x'.repeat(300_000) }, { name: 'etc/keep', data: 'keep' }]);
    const v1 = dockerArchive({ compress: 'gzip', tags: ['app:1'], layers: [base, tar([{ name: 'etc/conf', data: 'abc', mtime: 1 }, { name: 'etc/same', data: 'same', mtime: 1 }, { name: 'gone', data: 'g' }])] });
    const v2 = dockerArchive({ compress: 'gzip', tags: ['app:2'], layers: [base, tar([{ name: 'etc/conf', data: 'abd', mtime: 2 }, { name: 'etc/same', data: 'same', mtime: 2 }, { name: 'new', data: 'n' }, { name: 'etc/keep', data: 'keep', mode: 0o600 }])] });
    const f1 = join(site.scratch, 'app-1.tar'), f2 = join(site.scratch, 'app-2.tar');
    writeFileSync(f1, v1);
    writeFileSync(f2, v2);
    const cli = await cliDiff([f1, f2]);
    expect(cli.files.map((f) => `${f.change} ${f.path} ${f.what.join(',')}`)).toEqual(['modified /etc/conf content', 'modified /etc/keep mode', 'deleted /gone ', 'added /new ']);
    expect(cli.hashed.files).toBe(6);
    const p = await page();
    await chooseFile(p, f1);
    await waitForImage(p);
    await chooseFile(p, f2);
    await p.getByText('app:2').first().waitFor();
    await waitForImage(p);
    await p.getByRole('button', { name: 'Compare', exact: true }).click();
    const pick = async (label: string, name: RegExp) => {
      const texts = await p.getByLabel(label).locator('option').allInnerTexts();
      await p.getByLabel(label).selectOption({ label: texts.find((t) => name.test(t))! });
    };
    await pick('Image A', /^app:1/);
    await pick('Layer of B', /^as of layer 2/);
    await expect.poll(() => summary(p), { timeout: 60_000 }).toMatch(summaryOf(cli));
    expect(await summary(p)).toContain('6 file versions of equal size hashed');
    expect(await p.getByRole('tree', { name: 'Differing paths' }).getByRole('treeitem').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label'))))
      .toEqual(['etc, holds changes, ±0', 'conf, modified (content), ±0', 'keep, modified (mode), ±0', 'gone, deleted, −1 B', 'new, added, +1 B']);
  });
});
