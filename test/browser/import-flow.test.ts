// Getting an image in, when it does not simply work: cancelling a large import (nothing stored,
// IndexedDB as before), broken input (a clear banner, no stack), ?src= with progress and a CORS
// refusal, and an archive that holds several images.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { writeBigImage } from './big-image.ts';
import {
  FIXTURES, ROOT, checkFlatten, chooseFile, download, idbCounts, launchBrowser, newContext, rowNames, serve, startSite,
  tarListing, unexpected, waitForImage, watchPage, type Site, type StaticServer,
} from './site.ts';
import { strata } from '../helpers/cli.ts';

let site: Site;
let browser: Browser;
let slowCors: StaticServer;
let noCors: StaticServer;
const opened: { context: BrowserContext; problems: string[] }[] = [];
let bigBytes = 0;

async function fresh(search = ''): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  const problems = watchPage(page);
  opened.push({ context, problems });
  await page.goto(site.url + search);
  return page;
}

const banner = (page: Page) => page.getByRole('alert');
const progress = (page: Page) => page.getByRole('region', { name: 'Import progress' });

async function openSample(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Try the sample image' }).click();
  await waitForImage(page);
}

async function storedNames(page: Page): Promise<string[]> {
  await page.getByRole('button', { name: 'Stored images', exact: true }).click();
  const region = page.getByRole('region', { name: 'Stored images' });
  await region.waitFor();
  await page.waitForTimeout(200); // the list is refreshed on opening the view
  return region.getByRole('button', { name: /^Open / }).evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')!.slice(5)));
}

describe('import flow in the built site: cancel, broken input, ?src=, several images', () => {
  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    // ~320 MB of layer data in 4 gzip layers: an import that takes seconds
    // (big enough that a reload right after the import still finds layers being expanded)
    bigBytes = writeBigImage(join(site.scratch, 'big.tar'), { layers: 4, filesPerLayer: 40, fileBytes: 2 << 20 });
    slowCors = await serve([{ prefix: '/', dir: join(FIXTURES, 'generated'), cors: true, rate: 1 << 20 }]);
    noCors = await serve([{ prefix: '/', dir: join(FIXTURES, 'generated') }]);
  });
  afterAll(async () => {
    for (const o of opened) expect(unexpected(o.problems)).toEqual([]);
    await browser?.close();
    await Promise.all([site?.close(), slowCors?.close(), noCors?.close()]);
  });

  test('cancel a large import mid-way: the UI stays usable, nothing is stored, IndexedDB is as before', async () => {
    const page = await fresh();
    await openSample(page);
    await page.getByRole('button', { name: 'Close image' }).click();
    // the sample's layers are expanded after its import: wait for that, so `before` holds still
    await expect.poll(() => idbCounts(page).then((c) => c['strata-packed/chunks']), { timeout: 30_000 }).toBe(0);
    const before = await idbCounts(page);
    expect(before['strata-images/images']).toBe(1);
    expect(await storedNames(page)).toEqual(['strata-sample:1.0']);

    const t0 = Date.now();
    await chooseFile(page, join(site.scratch, 'big.tar'));
    const bar = progress(page).getByRole('progressbar');
    // wait until the layers are being decoded: "layer i of 4 · 12.3 MB of 169 MB"
    await expect.poll(() => bar.getAttribute('aria-valuetext'), { interval: 20 })
      .toMatch(/^layer [1-4] of 4 · [\d.]+ MB of [\d.]+ MB/);
    const shown = await bar.getAttribute('aria-valuetext');
    expect(await progress(page).innerText()).toMatch(/^Decoding\s+big\.tar/);
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThan(100);
    await progress(page).getByRole('button', { name: 'Cancel' }).click();
    const tCancel = Date.now();
    await progress(page).waitFor({ state: 'detached' });
    console.log(`cancel: clicked ${tCancel - t0} ms into the import (${shown}); progress gone ${Date.now() - tCancel} ms later`);
    expect(bigBytes).toBeGreaterThan(100e6);

    // no error for a cancel, and no image opened
    expect(await banner(page).count()).toBe(0);
    expect(page.url()).not.toContain('#image=');
    await expect.poll(() => idbCounts(page)).toEqual(before);
    expect(await storedNames(page)).toEqual(['strata-sample:1.0']);

    // usable: the stored sample opens and reads its content
    await page.getByRole('button', { name: 'Open strata-sample:1.0' }).click();
    await waitForImage(page);
    expect(await rowNames(page)).toContain('etc');
    expect(await idbCounts(page)).toEqual(before);

    // and deleting it leaves no record behind
    await page.getByRole('button', { name: 'Stored images', exact: true }).click();
    await page.getByRole('button', { name: 'Delete strata-sample:1.0' }).click();
    await page.getByRole('button', { name: 'Confirm delete strata-sample:1.0' }).click();
    await page.getByText('No images stored yet').waitFor();
    const after = await idbCounts(page);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(Object.values(after).every((n) => n === 0), JSON.stringify(after)).toBe(true);
  });

  test('reload while the compressed layers are still being expanded: the image reopens, expansion resumes, the export equals the CLI flatten', async () => {
    const page = await fresh();
    await chooseFile(page, join(site.scratch, 'big.tar'));
    await waitForImage(page);
    // reload at once: the import has committed the layers as shipped and is now expanding them
    const atReload = await idbCounts(page);
    await page.reload();
    console.log(`reload with ${atReload['strata-packed/chunks']} packed and ${atReload['strata-content/chunks']} content chunks stored`);
    expect(atReload['strata-packed/chunks']).toBeGreaterThan(0);
    await waitForImage(page); // reopened from the URL hash
    // the new page's coordinator finishes the expansion; reads and the export wait for it
    const flat = await download(page, async () => {
      await page.getByRole('button', { name: 'Image', exact: true }).click();
      await page.getByRole('button', { name: /flattened.*\(\.tar\)/ }).click();
    }, join(site.scratch, 'big-after-reload.flat.tar'));
    const cliTar = join(site.scratch, 'big.cli.tar');
    const cli = await strata(['flatten', join(site.scratch, 'big.tar'), '-o', cliTar]);
    expect(cli.code, cli.stderr).toBe(0);
    const [list, extra] = await tarListing(cliTar, site.scratch, 'big-cli');
    const check = await checkFlatten(flat.path, list, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: 16[0-9] paths/);
    // and the digest checks the reload cut short are done by the new page: every layer verifies
    const verification = page.getByRole('table').filter({ hasText: 'Digest / diff ID' }).locator('tbody tr td:last-child');
    await expect.poll(() => verification.allInnerTexts(), { timeout: 60_000 }).not.toContainEqual(expect.stringContaining('verifying'));
    for (const v of await verification.allInnerTexts()) expect(v).toMatch(/^✓\s+verified/);
    // the compressed copies are gone (each once its layer was expanded)
    await expect.poll(() => idbCounts(page).then((c) => c['strata-packed/chunks']), { timeout: 10_000 }).toBe(0);
  }, 120_000);

  test('an export right after the import (layers still being expanded) equals the CLI flatten', async () => {
    const page = await fresh();
    await chooseFile(page, join(site.scratch, 'big.tar'));
    await waitForImage(page);
    const t0 = Date.now();
    const flat = await download(page, async () => {
      await page.getByRole('button', { name: 'Image', exact: true }).click();
      await page.getByRole('button', { name: /flattened.*\(\.tar\)/ }).click();
    }, join(site.scratch, 'big-right-after.flat.tar'));
    const counts = await idbCounts(page);
    // how far the expansion's writes were when the download was saved (the bench times this)
    console.log(`export right after the import: saved ${Date.now() - t0} ms after the tree was shown; ${counts['strata-packed/chunks']} packed chunks still stored then`);
    const cliTar = join(site.scratch, 'big.cli2.tar');
    const cli = await strata(['flatten', join(site.scratch, 'big.tar'), '-o', cliTar]);
    expect(cli.code, cli.stderr).toBe(0);
    const [list, extra] = await tarListing(cliTar, site.scratch, 'big-cli2');
    const check = await checkFlatten(flat.path, list, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: 16[0-9] paths/);
    // the expansion still finishes and stores everything
    await expect.poll(() => idbCounts(page).then((c) => c['strata-packed/chunks']), { timeout: 60_000 }).toBe(0);
  }, 120_000);

  test('delete an image while its layers are still being expanded: every store ends empty', async () => {
    const page = await fresh();
    await chooseFile(page, join(site.scratch, 'big.tar'));
    await waitForImage(page);
    const atDelete = await idbCounts(page);
    expect(atDelete['strata-packed/chunks']).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Stored images', exact: true }).click();
    await page.getByRole('button', { name: 'Delete big:cancel-me' }).click();
    await page.getByRole('button', { name: 'Confirm delete big:cancel-me' }).click();
    await page.getByText('No images stored yet').waitFor();
    // the expansion was stopped before the delete, so no late write leaves chunks behind
    await page.waitForTimeout(1500);
    const after = await idbCounts(page);
    expect(Object.values(after).every((n) => n === 0), JSON.stringify(after)).toBe(true);
    expect(await banner(page).count()).toBe(0);
  });

  test('an import does not wait behind the expansion of the image imported before it', async () => {
    const page = await fresh();
    await chooseFile(page, join(site.scratch, 'big.tar'));
    await waitForImage(page);
    const t0 = Date.now();
    await chooseFile(page, join(ROOT, 'public/sample.tar'));
    await expect.poll(() => page.locator('header .image').innerText(), { timeout: 30_000 }).toBe('strata-sample:1.0');
    const counts = await idbCounts(page);
    console.log(`sample opened ${Date.now() - t0} ms after it was chosen; the big image still had ${counts['strata-packed/chunks']} packed chunks`);
    // the big image's layers were still being expanded: the sample's decoding went first
    expect(counts['strata-packed/chunks']).toBeGreaterThan(0);
    await expect.poll(() => idbCounts(page).then((c) => c['strata-packed/chunks']), { timeout: 60_000 }).toBe(0);
  });

  // A packed layer whose expansion fails after a reload: its stored compressed copy is replaced
  // (corrupt gzip; a valid gzip of other bytes) and the layer marked packed again, as if the tab had
  // closed before expanding it. The app must say why, keep the layer packed, and not mark it verified.
  test.each([
    ['corrupt gzip', () => Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]),
      /Expanding layer 1 of "strata-sample:1\.0" from its stored compressed copy failed: layer 1 \(sha256:[0-9a-f]{64}\): gzip data is corrupt \(invalid block type\) after 0 bytes of output\. The stored copy is damaged; delete the image and import it again\./],
    ['a valid gzip of other bytes', () => gzipSync(Buffer.alloc(1024)),
      /Expanding layer 1 of "strata-sample:1\.0": it decompressed to 1024 bytes, but to \d+ when it was imported\. The stored copy is damaged; delete the image and import it again\./],
  ])('a stored layer that no longer expands (%s): a clear banner, the preview fails, the layer stays packed, not verified', async (_, bytes, message) => {
    const page = await fresh();
    await openSample(page);
    await expect.poll(() => idbCounts(page).then((c) => c['strata-packed/chunks']), { timeout: 30_000 }).toBe(0);
    // and its digest checks are done: one still running would store "verified" over the pending
    // state written below (the record is rewritten whole), and nothing would check the layer again
    await expect.poll(() => page.evaluate(`(async () => {
      const images = await new Promise((ok, fail) => { const r = indexedDB.open('strata-images'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      const read = images.transaction('images').objectStore('images').getAll();
      const recs = await new Promise((ok) => { read.onsuccess = () => ok(read.result); });
      images.close();
      return recs.flatMap((rec) => rec.layers.map((l) => l.verify?.state ?? 'none')).join(' ');
    })()`), { timeout: 30_000 }).not.toMatch(/pending/);
    const packed = [...bytes()];
    await page.evaluate(`(async () => {
      const open = (name) => new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
      const done = (tx) => new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = tx.onabort = () => fail(tx.error); });
      const images = await open('strata-images');
      const read = images.transaction('images').objectStore('images').getAll();
      const [rec] = await new Promise((ok) => { read.onsuccess = () => ok(read.result); });
      rec.packed = [0];
      rec.layers[0].verify = { state: 'pending' };
      let tx = images.transaction('images', 'readwrite'); tx.objectStore('images').put(rec, rec.id); await done(tx);
      const store = await open('strata-packed');
      tx = store.transaction('chunks', 'readwrite'); tx.objectStore('chunks').put(new Blob([new Uint8Array(${JSON.stringify(packed)})]), [rec.id, 0, 0]); await done(tx);
    })()`);
    await page.reload();
    await page.getByRole('tree').waitFor(); // reopened from the URL hash (the banner may come first)
    await expect.poll(() => banner(page).allInnerTexts(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(message));
    expect(await banner(page).innerText()).not.toMatch(/\n\s+at /); // no stack
    // a file of that layer: the preview fails and says so
    const filter = page.getByRole('searchbox', { name: /Filter paths/ });
    await filter.fill('/etc/os-release');
    await filter.press('Enter');
    await page.getByRole('treeitem', { name: /^os-release,/ }).last().locator('.text').click();
    await expect.poll(() => page.getByRole('region', { name: 'Details' }).innerText(), { timeout: 30_000 }).toContain('The content could not be read.');
    const counts = await idbCounts(page);
    expect(counts['strata-packed/chunks']).toBe(1); // still the only copy of that layer
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    const first = page.getByRole('table').filter({ hasText: 'Digest / diff ID' }).locator('tbody tr').first().locator('td:last-child');
    await expect.poll(() => first.innerText(), { timeout: 30_000 }).toMatch(/not verifiable[\s\S]*could not be stored decompressed/);
  });

  test('opening another archive during an import cancels the first: only the second is stored', async () => {
    const page = await fresh();
    await chooseFile(page, join(site.scratch, 'big.tar'));
    const bar = progress(page).getByRole('progressbar');
    await expect.poll(() => bar.getAttribute('aria-valuetext'), { interval: 20 }).toMatch(/^layer [1-4] of 4 · /);
    await chooseFile(page, join(ROOT, 'public/sample.tar'));
    await waitForImage(page);
    expect(await page.locator('header .image').innerText()).toBe('strata-sample:1.0');
    await expect.poll(() => progress(page).count()).toBe(0);
    expect(await storedNames(page)).toEqual(['strata-sample:1.0']);
    const counts = await idbCounts(page);
    expect(counts['strata-images/images']).toBe(1);
    expect(counts['strata-trees/trees']).toBe(1);
    expect(await banner(page).count()).toBe(0);
    // nothing left from the big archive: once the sample is deleted, every store is empty
    await page.getByRole('button', { name: 'Delete strata-sample:1.0' }).click();
    await page.getByRole('button', { name: 'Confirm delete strata-sample:1.0' }).click();
    await page.getByText('No images stored yet').waitFor();
    expect(Object.values(await idbCounts(page)).every((n) => n === 0), JSON.stringify(await idbCounts(page))).toBe(true);
    // the sample's layers were stored (as shipped, or already expanded)
    expect(counts['strata-content/chunks'] + counts['strata-packed/chunks']).toBeGreaterThan(0);
  });

  test.each([
    ['a PNG named .tar', 'logo.tar', () => pngBytes(), /^logo\.tar is not an image archive: it is a PNG image\. Expected the output of docker save/],
    ['a truncated OCI archive', 'edge.oci.tar', () => readFileSync(join(FIXTURES, 'generated/edge.oci.tar')).subarray(0, 700_000),
      /^edge\.oci\.tar is truncated: .*700000 bytes.*cut short/],
  ])('%s: a banner with the specific message, no stack trace, the app still usable', async (_, name, bytes, message) => {
    const page = await fresh();
    await chooseFile(page, { name, mimeType: 'application/x-tar', buffer: Buffer.from(bytes()) });
    await banner(page).waitFor();
    const text = await banner(page).locator('.message').innerText();
    expect(text).toMatch(message);
    const all = await banner(page).innerText();
    expect(all).not.toMatch(/\bat .*:\d+|Error:|\.ts\b|\.js\b|worker/i);
    expect(await progress(page).count()).toBe(0);
    expect(await page.getByRole('tree').count()).toBe(0);
    // still usable: the banner goes away, and the sample imports
    await banner(page).getByRole('button', { name: /^Dismiss/ }).click();
    expect(await banner(page).count()).toBe(0);
    await openSample(page);
  });

  test('?src=URL downloads with progress (CORS allowed) and opens the image', async () => {
    const url = `${slowCors.origin}/edge.oci.tar`;
    const page = await fresh(`?src=${encodeURIComponent(url)}`);
    const bar = progress(page).getByRole('progressbar');
    await expect.poll(() => progress(page).innerText()).toMatch(/^Downloading\s+edge\.oci\.tar/);
    await expect.poll(() => bar.getAttribute('aria-valuetext')).toMatch(/^[\d.]+ KB of 1\.1 MB|^[\d.]+ MB of 1\.1 MB/);
    const percent = Number(await bar.getAttribute('aria-valuenow'));
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThan(100);
    await waitForImage(page);
    expect(await page.locator('header').innerText()).toContain('layer 5/5');
    expect(page.url()).toContain('?src=');
    expect(page.url()).toContain('#image=');
    expect(slowCors.log.filter((l) => l === 'GET /edge.oci.tar').length).toBe(1);
    // the address now names the stored image: a reload reopens it, it does not download it again
    // the layers as listed (digest checks and the analysis add to them in the background: not compared)
    const layersShown = async () => (await page.getByRole('region', { name: 'Layers' }).innerText())
      .split('\n').filter((l) => !/verif|^[✓…✗!]$|wastes/.test(l)).join('\n');
    const shown = await layersShown();
    await page.reload();
    await waitForImage(page);
    expect(await layersShown()).toBe(shown);
    expect(slowCors.log.filter((l) => l === 'GET /edge.oci.tar').length).toBe(1);
    expect(await storedNames(page)).toHaveLength(1);
  });

  test('?src=URL on a server without CORS headers: the banner explains CORS', async () => {
    const url = `${noCors.origin}/edge.oci.tar`;
    const page = await fresh(`?src=${encodeURIComponent(url)}`);
    await banner(page).waitFor();
    const text = await banner(page).locator('.message').innerText();
    expect(text).toContain(`Could not download ${url}`);
    expect(text).toMatch(/CORS/);
    expect(text).toMatch(/drop it here/);
    expect(noCors.log).toContain('GET /edge.oci.tar'); // it was asked, and refused by the browser
    await banner(page).getByRole('button', { name: /^Dismiss/ }).click();
    await openSample(page);
  });

  test('an archive with several images asks which one; Cancel opens nothing; a choice opens that image', async () => {
    const page = await fresh();
    const bundle = join(FIXTURES, 'peers/go-containerregistry__test_bundle.tar');
    await chooseFile(page, bundle);
    const dialog = page.getByRole('dialog', { name: 'Choose an image' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('holds 2 images');
    const choices = await dialog.getByRole('listitem').allInnerTexts();
    expect(choices.length).toBe(2);
    for (const c of choices) expect(c).toMatch(/test_image_[12]\s+linux\/amd64\s+1 layer · [0-9a-f]{12}$/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await progress(page).count()).toBe(0);
    expect(await page.getByRole('tree').count()).toBe(0);
    expect(await banner(page).count()).toBe(0);

    await chooseFile(page, bundle);
    await dialog.waitFor();
    await dialog.getByRole('button', { name: /test_image_1/ }).click();
    await waitForImage(page);
    expect(await page.locator('header .image').innerText()).toMatch(/test_image_1/);
    expect(await rowNames(page)).toEqual(['bar', 'foo']);

    await chooseFile(page, bundle);
    await dialog.getByRole('button', { name: /test_image_2/ }).click();
    await expect.poll(() => page.locator('header .image').innerText()).toMatch(/test_image_2/);
    await expect.poll(() => rowNames(page)).toEqual(['bat', 'baz']);
  });
});

/** a valid 1×1 PNG */
function pngBytes(): Uint8Array {
  return Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
}
