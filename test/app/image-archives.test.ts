// The Image view's written-image downloads in real Chromium over the in-memory engine: the request
// each button makes, the file name, progress while it runs, cancel, and errors shown as a banner.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, startHarness, type Harness } from './browser.ts';

let h: Harness;
const pages: { page: Page; errors: string[] }[] = [];

type EngineHandle = { engine: { writeStepMs: number; lastWrite: { id: string; req: Record<string, unknown>; cancelled: boolean } | null; failNext: unknown } };

/** the sample image open in the Image view, with layer `layer` (1-based) selected first */
async function imageView(layer?: number): Promise<Page> {
  const p = await openPage(h);
  pages.push(p);
  await p.page.getByRole('button', { name: 'Try the sample image' }).click();
  await p.page.getByRole('tree').waitFor();
  if (layer) await p.page.getByRole('button', { name: new RegExp(`^#${layer}`) }).click();
  await p.page.getByRole('button', { name: 'Image', exact: true }).click();
  return p.page;
}

const lastWrite = (page: Page) => page.evaluate(() => (globalThis as unknown as EngineHandle).engine.lastWrite);

describe('Image view: squashed image and image as of a layer', () => {
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => {
    // (the harness has no favicon: a 404 the tests did not cause)
    for (const p of pages) expect(p.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
    await h?.close();
  });

  test('download squashed image: format, kept layers and gzip go to the engine; the file is saved', async () => {
    const page = await imageView();
    await page.getByLabel('Format').selectOption('oci');
    await page.getByLabel('Layers kept below the squashed one').selectOption({ label: 'layer 1' });
    await page.getByLabel('gzip the squashed layer').uncheck();
    const download = page.waitForEvent('download');
    const before = Date.now();
    await page.getByRole('button', { name: 'Download squashed image' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toBe('sample_latest-squashed.oci.tar');
    const body = JSON.parse(readFileSync(await d.path(), 'utf8'));
    expect(body).toMatchObject({ id: 'img1', op: 'squash', keep: 1, format: 'oci', compress: false });
    // the page's clock names the creation time, so the same request gives the same bytes
    expect(Date.parse(body.created)).toBeGreaterThanOrEqual(before - 5000);
  });

  test('download image as of this layer: the layer selected in the layers pane', async () => {
    const page = await imageView(2);
    expect(await page.getByRole('region', { name: 'Image archives' }).getByText('layers 1–2 of 3, history trimmed to match').count()).toBe(1);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download image as of this layer' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toBe('sample_latest-layer2.tar');
    expect(JSON.parse(readFileSync(await d.path(), 'utf8'))).toMatchObject({ op: 'cut', keep: 2, format: 'docker' });
  });

  test('progress while it runs; cancel stops it, saves nothing and shows no error', async () => {
    const page = await imageView();
    await page.evaluate(() => { (globalThis as unknown as EngineHandle).engine.writeStepMs = 400; });
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.getByRole('button', { name: 'Download squashed image' }).click();
    const status = page.getByRole('status', { name: 'Image archive progress' });
    await expect.poll(() => status.innerText(), { timeout: 5000 }).toMatch(/Preparing the squashed image: Composing the squashed layer — \d+ B of 500 B/);
    expect(await page.getByRole('button', { name: 'Download squashed image' }).isDisabled()).toBe(true);
    await status.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => status.count()).toBe(0);
    await expect.poll(async () => (await lastWrite(page))?.cancelled).toBe(true);
    await page.waitForTimeout(500);
    expect(downloads).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Download squashed image' }).isEnabled()).toBe(true);
  });

  test('an engine error is shown as a banner, without a stack', async () => {
    const page = await imageView();
    await page.evaluate(() => {
      (globalThis as unknown as EngineHandle).engine.failNext = { method: 'writeImage', error: { code: 'QUOTA_EXCEEDED', message: 'The browser ran out of storage quota.\n    at foo (x.ts:1:1)' } };
    });
    await page.getByRole('button', { name: 'Download image as of this layer' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.count()).toBe(1);
    expect(await alert.innerText()).toContain('The browser ran out of storage quota.');
    expect(await alert.innerText()).not.toContain('x.ts');
  });
});
