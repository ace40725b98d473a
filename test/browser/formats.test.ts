// Every fixture format through the real site: file picker → workers → IndexedDB → tree, then the
// "Download flattened filesystem" button, checked by the independent Python listing.
import { existsSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import {
  FIXTURES, checkFlatten, chooseFile, closeSitePage, download, openSitePage, tempDir, unexpected, waitForImage, type Site, type SitePage,
} from './site.ts';

const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');
const edge = (f: string): [string, string, string] => [join(gen, f), join(gen, 'edge.expected.tsv'), join(gen, 'edge.expected-extra.tsv')];

const cases: [string, string, string?][] = [
  ...['edge.docker.tar', 'edge.docker.tar.gz', 'edge.oci.tar', 'edge.oci-zstd.tar'].map(edge),
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).sort().map((f): [string, string, string?] => {
    const base = f.replace(/\.expected\.tsv$/, '');
    const extra = join(peers, 'expected', `${base}.expected-extra.tsv`);
    return [join(peers, `${base}.tar`), join(peers, 'expected', f), existsSync(extra) ? extra : undefined];
  }),
];
const name = (p: string) => p.split('/').pop()!;

let site: Site;
let opened: SitePage | undefined;
let page: Page;
let problems: string[];
const out = tempDir('formats');

/** Open `image` through the file picker on a fresh landing page and download the flattened tar. */
async function importAndFlatten(image: string, gzip = false): Promise<{ path: string; name: string; ms: number }> {
  await page.goto(site.url);
  const t0 = Date.now();
  await chooseFile(page, image);
  await waitForImage(page);
  const ms = Date.now() - t0;
  expect(await page.locator('header').innerText()).toContain('layer ');
  await page.getByRole('button', { name: 'Image', exact: true }).click();
  const button = page.getByRole('button', { name: gzip ? /flattened.*\.tar\.gz/ : /flattened.*\(\.tar\)/ });
  const saved = await download(page, () => button.click(), join(out.dir, name(image) + (gzip ? '.flat.tar.gz' : '.flat.tar')));
  // the digests are checked after the import: every layer ends verified (or not verifiable), none mismatched
  const verification = page.getByRole('table').filter({ hasText: 'Digest / diff ID' }).locator('tbody tr td:last-child');
  await expect.poll(() => verification.allInnerTexts(), { timeout: 30_000 }).not.toContainEqual(expect.stringContaining('verifying'));
  for (const v of await verification.allInnerTexts()) expect(v).toMatch(/^(✓\s+verified|–\s+not verifiable)/);
  return { ...saved, ms };
}

describe('import every fixture format in Chromium, flattened download = expected listing', () => {
  beforeAll(async () => {
    opened = await openSitePage();
    ({ site, page, problems } = opened);
  });
  afterAll(async () => {
    await closeSitePage(opened);
    out.remove();
  });

  test('there are fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const [image] of cases) expect(existsSync(image), image).toBe(true);
  });

  test.each(cases.map(([image, ...rest]) => [image.slice(FIXTURES.length + 1), image, ...rest] as const))('%s', async (_, image, expected, extra) => {
    const got = await importAndFlatten(image);
    console.log(`browser import ${name(image)}: ${got.ms} ms`);
    expect(got.name).toMatch(/-rootfs\.tar$/);
    const check = await checkFlatten(got.path, expected, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    expect(check.code).toBe(0);
    expect(unexpected(problems)).toEqual([]);
  });

  test('the .tar.gz flattened download decompresses to the same listing', async () => {
    const [image, expected, extra] = edge('edge.oci.tar');
    const got = await importAndFlatten(image, true);
    expect(got.name).toMatch(/-rootfs\.tar\.gz$/);
    const gz = readFileSync(got.path);
    expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
    const tar = join(out.dir, 'gunzipped.tar');
    writeFileSync(tar, gunzipSync(gz));
    const check = await checkFlatten(tar, expected, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    expect(unexpected(problems)).toEqual([]);
  });

  test('a gzip-wrapped plain rootfs (the edge image flattened, | gzip) is imported from its gzip: the same listing', async () => {
    const [image, expected, extra] = edge('edge.oci.tar');
    const flat = await importAndFlatten(image);
    const wrapped = join(out.dir, 'edge-rootfs.tar.gz');
    writeFileSync(wrapped, gzipSync(readFileSync(flat.path)));
    const got = await importAndFlatten(wrapped);
    // one layer, the file itself, still gzip (no decompressed copy was made to open it)
    const layers = page.getByRole('table').filter({ hasText: 'Digest / diff ID' }).locator('tbody tr');
    await expect.poll(() => layers.allInnerTexts()).toEqual([expect.stringMatching(/^1\s+edge-rootfs\.tar\.gz\s+gzip\s/)]);
    const check = await checkFlatten(got.path, expected, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    expect(unexpected(problems)).toEqual([]);
  });
});
