// The real App in headless Chromium over the in-memory test engine (test/app/harness).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, startHarness, type Harness } from './browser.ts';

let h: Harness;
const pages: { page: Page; errors: string[] }[] = [];

async function fresh(opts: Parameters<typeof openPage>[1] = {}) {
  const p = await openPage(h, opts);
  pages.push(p);
  return p;
}

async function openSample(page: Page) {
  await page.getByRole('button', { name: 'Try the sample image' }).click();
  await page.getByRole('tree').waitFor();
}

async function dropFile(page: Page, name: string) {
  await page.evaluate((n) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], n));
    for (const type of ['dragenter', 'dragover', 'drop']) window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, cancelable: true }));
  }, name);
}

const rowNames = (page: Page) => page.getByRole('treeitem').evaluateAll((els) => els
  .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
  .map((e) => e.getAttribute('aria-label')!.split(',')[0]));

describe('App in Chromium', () => {
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => {
    // no page may log an error, except failed loads a test provoked on purpose
    for (const p of pages) expect(p.errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
    await h?.close();
  });

  test('sample image: tree semantics, accessible names, details', async () => {
    const { page } = await fresh();
    await openSample(page);
    const tree = page.getByRole('tree');
    expect(await rowNames(page)).toEqual(['app', 'bin', 'etc', 'tmp']);
    const etc = page.getByRole('treeitem', { name: /^etc,/ });
    expect(await etc.getAttribute('aria-level')).toBe('1');
    expect(await etc.getAttribute('aria-expanded')).toBe('false');
    await etc.click();
    await tree.press('ArrowRight');
    expect(await etc.getAttribute('aria-expanded')).toBe('true');
    await tree.press('ArrowRight');
    await tree.press('ArrowDown');
    const passwd = page.getByRole('treeitem', { name: /^passwd,/ });
    expect(await passwd.getAttribute('aria-level')).toBe('2');
    expect(await passwd.getAttribute('aria-selected')).toBe('true');
    const details = page.getByRole('region', { name: 'Details' });
    await expect.poll(() => details.textContent()).toContain('/etc/passwd');
    await expect.poll(() => details.locator('pre').textContent()).toContain('app:x:1000');
    expect(await details.textContent()).toContain('-rw-r--r--');
    expect(page.url()).toContain('path=/etc/passwd');
  });

  test('changes mode: deleted paths struck through, letter and colour', async () => {
    const { page } = await fresh();
    await openSample(page);
    await page.getByRole('button', { name: /^#2/ }).click();
    await page.getByRole('button', { name: "This layer's changes" }).click();
    expect(await rowNames(page)).toEqual(['app', 'etc', 'old.txt']);
    const old = page.getByRole('treeitem', { name: /^old\.txt, file, deleted/ });
    expect(await old.locator('.diff').textContent()).toBe('D');
    const style = await old.locator('.text').evaluate((e) => getComputedStyle(e).textDecorationLine);
    expect(style).toBe('line-through');
    await page.getByRole('button', { name: 'Expand all' }).click();
    const added = page.getByRole('treeitem', { name: /^main\.js, file, added/ });
    expect(await added.locator('.diff').textContent()).toBe('A');
  });

  test('keyboard: / filters with a glob, [ and ] change layers, Enter jumps through a symlink', async () => {
    const { page } = await fresh();
    await openSample(page);
    const tree = page.getByRole('tree');
    await tree.focus();
    await page.keyboard.press('/');
    await page.keyboard.type('*.conf');
    await page.keyboard.press('Enter');
    expect(await rowNames(page)).toEqual(['app', 'conf.d', 'site.conf', 'etc', 'nginx.conf']);
    await page.keyboard.press('[');
    expect(page.url()).toContain('layer=1');
    expect(await rowNames(page)).toEqual(['etc', 'nginx.conf']);
    await page.keyboard.press(']');
    await expect.poll(() => page.url()).toContain('layer=2');
    await page.getByRole('searchbox').fill('');
    await page.getByRole('searchbox').press('Escape');
    await page.getByRole('treeitem', { name: /^bin,/ }).click();
    await tree.press('ArrowRight');
    await tree.press('ArrowRight');
    await tree.press('ArrowDown');
    await tree.press('ArrowDown');
    const sh = page.getByRole('treeitem', { name: /^sh, symlink, to busybox/ });
    expect(await sh.getAttribute('aria-selected')).toBe('true');
    await tree.press('Enter');
    expect(await page.getByRole('treeitem', { name: /^busybox,/ }).getAttribute('aria-selected')).toBe('true');
    // busybox and ls share an inode
    await expect.poll(() => page.getByRole('region', { name: 'Details' }).textContent()).toContain('/bin/ls');
    expect(await page.getByRole('region', { name: 'Details' }).locator('pre').textContent()).toContain('|.ELF');
    // back restores the previous view
    await page.goBack();
    await expect.poll(() => page.url()).toContain('path=/bin/sh');
  });

  test('multi-platform archive asks which platform; errors show in a dismissible banner', async () => {
    const { page } = await fresh();
    await page.locator('input[type=file]').first().setInputFiles({ name: 'multi.tar', mimeType: 'application/x-tar', buffer: Buffer.from('x') });
    const dialog = page.getByRole('dialog', { name: 'Choose a platform' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: /linux\/arm64/ }).click();
    await page.getByRole('tree').waitFor();
    expect(await page.locator('header').textContent()).toContain('layer 3/3');

    await dropFile(page, 'broken.tar');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('ends in the middle of an entry');
    expect(await alert.textContent()).not.toMatch(/\bat .*:\d+/);
    await alert.getByRole('button', { name: /^Dismiss/ }).click();
    expect(await page.getByRole('alert').count()).toBe(0);
    // still usable
    await page.getByRole('button', { name: /^#1/ }).click();
    expect(page.url()).toContain('layer=0');
  });

  test('image view: config, verification updates, flattened download button', async () => {
    const { page } = await fresh();
    await openSample(page);
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    expect(await page.getByRole('button', { name: /flattened/ }).count()).toBe(2);
    await page.evaluate(() => (globalThis as unknown as { engine: { emitVerify: (...a: unknown[]) => void } }).engine
      .emitVerify('img1', 1, { state: 'mismatch', detail: 'sha256:aaa != sha256:bbb' }));
    await expect.poll(() => page.locator('main').textContent()).toContain('sha256:aaa != sha256:bbb');
    expect(await page.locator('main').textContent()).toContain('PATH=/bin');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download flattened filesystem (.tar.gz)' }).click();
    expect((await download).suggestedFilename()).toBe('sample_latest-rootfs.tar.gz');
  });

  test('stored images: list, open, delete', async () => {
    const { page } = await fresh();
    await openSample(page);
    await page.getByRole('button', { name: 'Stored images' }).click();
    await page.getByRole('button', { name: 'Delete sample:latest' }).first().click();
    await page.getByRole('button', { name: 'Confirm delete sample:latest' }).click();
    await expect.poll(() => page.getByText('No images stored yet').count()).toBe(1);
    expect(await page.getByText(/used of/).count()).toBe(1);
  });

  test('100k paths and a 10k-entry directory stay fast and virtualised', async () => {
    const { page } = await fresh();
    await dropFile(page, 'big.tar');
    const tree = page.getByRole('tree');
    await tree.waitFor();
    const wide = page.getByRole('treeitem', { name: /^wide,/ });
    await wide.click();
    const ms = await page.evaluate(async () => {
      const t0 = performance.now();
      document.querySelector<HTMLElement>('[role=tree]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
      return performance.now() - t0;
    });
    console.log(`UI: expand a 10k-entry directory and render: ${ms.toFixed(0)} ms`);
    expect(await page.getByText('10,003 rows shown').count()).toBe(1);
    expect(await page.getByRole('treeitem').count()).toBeLessThan(100);
    await tree.press('End');
    // name-byte order: entry0, entry1, entry10, … entry9999, link
    expect(await page.getByRole('treeitem', { name: /^link, symlink/ }).getAttribute('aria-selected')).toBe('true');
    await tree.press('ArrowUp');
    expect(await page.getByRole('treeitem', { name: /^entry9999,/ }).getAttribute('aria-selected')).toBe('true');
    const t1 = Date.now();
    await page.getByRole('button', { name: 'Expand all' }).click();
    await expect.poll(() => page.getByText(/100,09\d rows shown/).count()).toBe(1);
    console.log(`UI: expand all (100k rows): ${Date.now() - t1} ms`);
    expect(await page.getByRole('treeitem').count()).toBeLessThan(100);
    expect(ms).toBeLessThan(2000);
  });

  test('themes follow the system setting; no requests leave the page', async () => {
    const dark = await fresh({ colorScheme: 'dark' });
    const light = await fresh({ colorScheme: 'light' });
    const bg = (p: Page) => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await bg(dark.page)).not.toBe(await bg(light.page));
    const outside: string[] = [];
    light.page.on('request', (r) => { if (!r.url().startsWith(h.url)) outside.push(r.url()); });
    await openSample(light.page);
    expect(outside).toEqual([]);
  });

  test('?src= failures explain themselves', async () => {
    const { page } = await fresh({ search: '?src=http://127.0.0.1:59999/image.tar' });
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toContain('Could not download http://127.0.0.1:59999/image.tar');
    expect(await page.getByRole('alert').textContent()).toContain('CORS');
  });
});
