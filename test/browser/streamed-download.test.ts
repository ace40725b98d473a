// Streamed downloads through the service worker (issue 12): once the site's service worker
// controls the page, "Download flattened filesystem" right after an import streams the tar to the
// file as the packed layers are inflated (src/app/lib/download.ts, scripts/sw-plugin.ts,
// src/worker/coordinator/download-port.ts) instead of building a Blob. Checked in Chromium on the
// built site: tar, .tar.gz and folder downloads equal the expected listing and each other; a large
// image's download right after its import comes from the service worker's URL and is whole; one
// cancelled in the browser stops the export and leaves the app usable. And a file opened right after
// an import is read from the packed layer (coordinator/direct-read.ts), not after its expansion.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Download, Page } from 'playwright-core';
import { FIXTURES, checkFlatten, chooseFile, closeSitePage, idbCounts, openSitePage, run, tarListing, tempDir, unexpected, waitForImage, type Site, type SitePage } from './site.ts';
import { strata } from '../helpers/cli.ts';
import { writeBigImage } from './big-image.ts';
import { ociArchive, sha, tar, type Spec } from '../../scripts/image-writer.ts';

let site: Site;
let opened: SitePage | undefined;
let page: Page;
let problems: string[];
const out = tempDir('streamed');
const gen = join(FIXTURES, 'generated');

async function controlled(): Promise<void> {
  await page.goto(site.url);
  // the first visit installs the service worker, which claims the page once active
  await page.waitForFunction(() => !!navigator.serviceWorker.controller, undefined, { timeout: 30_000 });
}

async function save(click: () => Promise<unknown>, to: string): Promise<Download> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]) as [Download, unknown];
  await d.saveAs(to);
  expect(await d.failure()).toBeNull();
  return d;
}

describe('streamed downloads through the service worker', () => {
  beforeAll(async () => {
    opened = await openSitePage();
    ({ site, page, problems } = opened);
  });
  afterAll(async () => {
    await closeSitePage(opened);
    out.remove();
  });

  /** `image` opened on a fresh page, its flattened tar downloaded to `to`: streamed, the expected listing */
  async function flattenedEdge(image: string, to: string): Promise<void> {
    await controlled();
    await chooseFile(page, join(gen, image));
    await waitForImage(page);
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    const d = await save(() => page.getByRole('button', { name: 'Download flattened filesystem (.tar)' }).click(), to);
    expect(d.url()).toMatch(/\/strata-download\/[0-9a-f-]{36}\//);
    expect(d.suggestedFilename()).toMatch(/-rootfs\.tar$/);
    const check = await checkFlatten(to, join(gen, 'edge.expected.tsv'), join(gen, 'edge.expected-extra.tsv'));
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    expect(check.code).toBe(0);
  }

  test('the flattened tar, the .tar.gz and a folder with the service worker in control: the expected listing, the same bytes', async () => {
    // streamed whether the layers are still packed or already stored (tiny layers: either, by timing)
    const tarPath = join(out.dir, 'edge.tar');
    await flattenedEdge('edge.oci.tar', tarPath);

    const gzPath = join(out.dir, 'edge.tar.gz');
    const g = await save(() => page.getByRole('button', { name: 'Download flattened filesystem (.tar.gz)' }).click(), gzPath);
    expect(g.suggestedFilename()).toMatch(/-rootfs\.tar\.gz$/);
    expect(Buffer.compare(gunzipSync(readFileSync(gzPath)), readFileSync(tarPath))).toBe(0);

    // a folder from the Details pane
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    await page.getByRole('treeitem', { name: /^etc,/ }).click();
    const folder = join(out.dir, 'etc.tar');
    await save(() => page.getByRole('button', { name: 'Download folder as .tar' }).click(), folder);
    const listing = await run('tar', ['-tf', folder]);
    expect(listing.code).toBe(0);
    const names = listing.stdout.trim().split('\n');
    expect(names[0]).toBe('etc/');
    expect(names.every((n) => n.startsWith('etc/'))).toBe(true);

    // an uncompressed image: its layers are stored as content at the import, read ahead in spans
    await flattenedEdge('edge.docker.tar', join(out.dir, 'edge-docker.tar'));
    expect(unexpected(problems)).toEqual([]);
  });

  test('right after the import of a large image: streamed from the service worker, whole; a cancelled one stops the export, no error shown', async () => {
    const big = join(out.dir, 'big.tar');
    writeBigImage(big, { layers: 3, filesPerLayer: 16, fileBytes: 4 << 20 });
    await controlled();
    await chooseFile(page, big);
    await waitForImage(page, 120_000);
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    // 192 MiB of packed gzip layers: their expansion takes seconds, the click comes at once
    const whole = join(out.dir, 'big.flat.tar');
    const first = await save(() => page.getByRole('button', { name: 'Download flattened filesystem (.tar)' }).click(), whole);
    expect(first.url()).toMatch(new RegExp(`^${site.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}strata-download/[0-9a-f-]{36}/`));
    const listing = await run('tar', ['-tvf', whole]);
    expect(listing.code).toBe(0);
    const files = listing.stdout.trim().split('\n').filter((l) => l.startsWith('-'));
    expect(files.length).toBe(3 * 16);
    expect(files.every((l) => l.split(/\s+/)[2] === String(4 << 20))).toBe(true);
    // every byte, not only the sizes: 48 chunks of 4 MiB, the service worker handing each buffer
    // back to be filled again once the browser has copied it out (a buffer filled too early would
    // show here as another file's bytes)
    const cliTar = join(out.dir, 'big.cli.tar');
    const cli = await strata(['flatten', big, '-o', cliTar]);
    expect(cli.code, cli.stderr).toBe(0);
    const [list, extra] = await tarListing(cliTar, out.dir, 'big-cli');
    const check = await checkFlatten(whole, list, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: 51 paths/);
    // the .tar.gz: the chunks go through the service worker's CompressionStream, their buffers
    // handed back the same way; it gunzips to the same bytes
    const gz = join(out.dir, 'big.flat.tar.gz');
    await save(() => page.getByRole('button', { name: 'Download flattened filesystem (.tar.gz)' }).click(), gz);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(gunzipSync(readFileSync(gz)))).toBe(sha(readFileSync(whole)));

    // the expansions paused during that export: the layers are still packed, the next one streams too
    const button = page.getByRole('button', { name: /flattened filesystem \(\.tar\)/ });
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), button.click()]) as [Download, unknown];
    expect(d.url()).toContain('/strata-download/');
    // the button says the file is on its way (the browser's downloads show its progress)
    expect(await page.getByRole('button', { name: 'Downloading flattened filesystem (.tar)…' }).count()).toBe(1);
    await d.cancel();
    expect(await d.failure()).toBe('canceled');
    // the export stopped (ABORTED): the button comes back, and there is no error banner
    await expect.poll(() => page.getByRole('button', { name: 'Download flattened filesystem (.tar)' }).isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByRole('alert').count()).toBe(0);
    // the analysis, held while the exports ran, is let go: it finishes (no part still computing)
    await page.getByRole('button', { name: 'Analysis', exact: true }).click();
    await expect.poll(() => page.locator('#analysis-summary').count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.locator('[id^="analysis-"] [role="status"]').count(), { timeout: 60_000 }).toBe(0);
    expect(unexpected(problems)).toEqual([]);
  }, 180_000);

  test('a file opened right after the import: its preview comes from the packed layer, before the layer is stored', async () => {
    // One gzip layer of 192 MiB that does not compress (stored deflate blocks: quick to make and
    // to inflate). Its expansion hashes all of it and writes it to IndexedDB, the last file last
    // (a text file of this one was stored in ≈ 1 s: its preview came from the stored content); an
    // inflate of its own reaches that file in a fraction of that.
    const specs: Spec[] = [{ name: 'data', kind: 'dir' }];
    for (let f = 0; f < 12; f++) {
      const data = randomBytes(16 << 20);
      // the previewed head is text (the preview reads 256 KiB), the rest random
      data.fill(`file ${f} of 12, the same line again and again\n`, 0, 256 << 10);
      data.write(`START OF FILE ${f}\n`, 0);
      specs.push({ name: `data/file${f}.txt`, data: new Uint8Array(data) });
    }
    const layer = tar(specs);
    const config = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } };
    const path = join(out.dir, 'text.tar');
    writeFileSync(path, ociArchive({ layers: [new Uint8Array(gzipSync(layer, { level: 0 }))], compress: 'none', config, refName: 'text:one-layer' }));
    await controlled();
    await chooseFile(page, path);
    await waitForImage(page, 120_000);
    // the last file, opened through the URL as a link would
    const q = new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));
    q.set('path', '/data/file11.txt');
    await page.evaluate((h) => { location.hash = h; }, q.toString());
    await page.getByText('START OF FILE 11').first().waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByText('file 11 of 12, the same line again and again').count()).toBeGreaterThan(0);
    // the packed copy is deleted once the layer is stored whole: still there, so the preview came
    // from the inflate the read made itself
    const packed = Object.entries(await idbCounts(page)).filter(([k]) => /packed/i.test(k)).reduce((a, [, n]) => a + n, 0);
    expect(packed).toBeGreaterThan(0);
    expect(unexpected(problems)).toEqual([]);
  }, 120_000);
});
