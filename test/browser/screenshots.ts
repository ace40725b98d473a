// The documentation screenshots, taken from the real built site: landing, the tree (the sample at
// layer 3 in changes mode with a file selected), the image view, the stored images, and the sample's
// layer 1 compared with its layer 3 (the dpkg status file's text diff).
// scripts/screenshots.ts writes them into docs/; a test takes them into a temp folder.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FIXTURES, chooseFile, launchPersistent, startSite, tempDir, unexpected, waitForImage, watchPage } from './site.ts';

export const SHOTS = ['screenshot-landing.png', 'screenshot-tree.png', 'screenshot-image.png', 'screenshot-stored.png', 'screenshot-compare.png'] as const;

export async function takeScreenshots(outDir: string, o: { width?: number; height?: number } = {}): Promise<string[]> {
  const site = await startSite();
  const profile = tempDir('shots');
  const context = await launchPersistent(profile.dir, { viewport: { width: o.width ?? 1400, height: o.height ?? 860 } });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const problems = watchPage(page);
    const shot = (name: (typeof SHOTS)[number]) => page.screenshot({ path: join(outDir, name) });

    await page.goto(site.url);
    await dismissOfflineNotice(page);
    await shot('screenshot-landing.png');

    // a second image, so the stored list has more than one row
    await chooseFile(page, join(FIXTURES, 'generated/edge.oci.tar'));
    await waitForImage(page);
    await page.getByRole('button', { name: 'Close image' }).click();
    await page.getByRole('button', { name: 'Try the sample image' }).click();
    await waitForImage(page);
    await page.getByRole('button', { name: /^#3 / }).click();
    await page.getByRole('button', { name: "This layer's changes" }).click();
    await page.getByRole('button', { name: 'Expand all' }).click();
    await page.getByRole('treeitem', { name: /^config\.yaml,/ }).locator('.text').click();
    await page.getByRole('region', { name: 'Details' }).locator('pre').waitFor();
    await page.getByRole('tree').focus();
    await page.mouse.move(0, 0); // no hover highlight
    await shot('screenshot-tree.png');

    await page.getByRole('button', { name: 'Image', exact: true }).click();
    await page.getByRole('heading', { name: 'Layers and digests' }).waitFor();
    await page.mouse.move(0, 0);
    await shot('screenshot-image.png');

    await page.getByRole('button', { name: 'Stored images', exact: true }).click();
    await page.getByRole('button', { name: /^Open .*edge/ }).waitFor();
    await page.mouse.move(0, 0);
    await shot('screenshot-stored.png');

    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.getByLabel('Image A').selectOption({ label: (await page.getByLabel('Image A').locator('option').allInnerTexts()).find((t) => t.startsWith('strata-sample'))! });
    await page.getByLabel('Layer of A').selectOption('0');
    await page.getByLabel('Image B').selectOption({ label: (await page.getByLabel('Image B').locator('option').allInnerTexts()).find((t) => t.startsWith('strata-sample'))! });
    await page.getByRole('searchbox', { name: /Filter differing paths/ }).fill('/var/**');
    await page.getByRole('searchbox', { name: /Filter differing paths/ }).press('Enter');
    await page.getByRole('treeitem', { name: /^status,/ }).click();
    await page.getByLabel('Text differences').locator('tr.changed').first().waitFor();
    await page.getByRole('tree', { name: 'Differing paths' }).focus();
    await page.mouse.move(0, 0);
    await shot('screenshot-compare.png');

    const bad = unexpected(problems);
    if (bad.length) throw new Error(`the page reported problems while taking screenshots:\n${bad.join('\n')}`);
    return SHOTS.map((s) => join(outDir, s));
  } finally {
    await context.close();
    await site.close();
    profile.remove();
  }
}

async function dismissOfflineNotice(page: Page): Promise<void> {
  const notice = page.getByRole('status').filter({ hasText: 'Ready to work offline' });
  await notice.waitFor({ timeout: 30_000 });
  await notice.getByRole('button', { name: 'Dismiss notice' }).click();
}
