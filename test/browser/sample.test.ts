// The bundled sample through the real site: per-layer A/M/D marks, links, filters, previews
// (text, hex, image, HTML shown as text), downloads checked against the CLI, and keyboard use.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ociArchive, tar } from '../../scripts/image-writer.ts';
import {
  ROOT, checkFlatten, chooseFile, download, launchBrowser, newContext, rowNames, run, startSite, tarListing, tempDir, unexpected,
  watchPage, waitForImage, type Site,
} from './site.ts';

let site: Site;
let browser: Browser;
const out = tempDir('sample');
const cliTar = join(out.dir, 'cli-flat.tar');
const cliTar2 = join(out.dir, 'cli-flat-layer2.tar');
const opened: { context: BrowserContext; problems: string[] }[] = [];

/** A fresh context and page with the sample imported (layer 3 of 3 shown). */
async function openSample(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await newContext(browser, { colorScheme });
  const page = await context.newPage();
  const problems = watchPage(page);
  opened.push({ context, problems });
  await page.goto(site.url);
  await page.getByRole('button', { name: 'Try the sample image' }).click();
  await waitForImage(page);
  return page;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** the tree row whose accessible name starts with `name,` */
const row = (page: Page, name: string) => page.getByRole('treeitem', { name: new RegExp(`^${esc(name)},`) });
/** click a row on its name (the chevron left of it toggles a directory) */
const pick = (r: Locator) => r.locator('.text').click();
const details = (page: Page) => page.getByRole('region', { name: 'Details' });
const preview = (page: Page) => details(page).locator('pre');

/** Select a path the way a user would: type it into the filter, press Enter, click its row. */
async function select(page: Page, path: string): Promise<Locator> {
  const filter = page.getByRole('searchbox', { name: /Filter paths/ });
  await filter.fill(path);
  await filter.press('Enter');
  const r = row(page, path.split('/').pop()!).last();
  await pick(r);
  await expect.poll(() => details(page).locator('.path').textContent()).toBe(path);
  return r;
}

async function layer(page: Page, k: number, mode: "This layer's changes" | 'All layers up to here') {
  await page.getByRole('button', { name: new RegExp(`^#${k} `) }).click();
  await page.getByRole('button', { name: mode }).click();
  await expect.poll(() => page.locator('header').innerText()).toContain(`layer ${k}/3`);
}

const decoration = (l: Locator) => l.evaluate((e) => getComputedStyle(e).textDecorationLine);

describe('browsing images in the built site', () => {
  beforeAll(async () => {
    const flatten = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'flatten', join(ROOT, 'public/sample.tar'), ...args]);
    const cli = Promise.all([flatten('-o', cliTar), flatten('--layer', '2', '-o', cliTar2)]);
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    for (const r of await cli) if (r.code !== 0) throw new Error(`strata flatten public/sample.tar failed: ${r.stderr}`);
  });
  afterAll(async () => {
    for (const o of opened) expect(unexpected(o.problems)).toEqual([]);
    await browser?.close();
    await site?.close();
    out.remove();
  });

  test("layer 3's changes: deletions struck through, opaque dir, chmod- and chown-only changes", async () => {
    const page = await openSample();
    await layer(page, 3, "This layer's changes");
    await page.getByRole('button', { name: 'Expand all' }).click();

    const motd = row(page, 'motd');
    expect(await motd.getAttribute('aria-label')).toBe('motd, file, deleted, 42 B');
    expect(await motd.locator('.diff').textContent()).toBe('D');
    expect(await decoration(motd.locator('.text'))).toBe('line-through');
    await pick(motd);
    expect(await details(page).locator('.path').textContent()).toBe('/etc/motd');
    expect(await details(page).innerText()).toContain('deleted in layer 3');
    expect(await decoration(details(page).locator('strong'))).toBe('line-through');

    const old = row(page, 'old');
    expect(await old.getAttribute('aria-label')).toMatch(/^old, directory, deleted/);
    expect(await decoration(old.locator('.text'))).toBe('line-through');
    await pick(old);
    expect(await details(page).locator('.path').textContent()).toBe('/var/lib/app/old');
    // its children go with it
    expect(await row(page, 'state.db').getAttribute('aria-label')).toMatch(/^state\.db, file, deleted/);

    // the opaque directory hides a.cache and b.cache of lower layers and adds fresh.cache
    const fresh = row(page, 'fresh.cache');
    expect(await fresh.getAttribute('aria-label')).toBe('fresh.cache, file, added, 7 B');
    expect(await fresh.locator('.diff').textContent()).toBe('A');
    expect(await decoration(fresh.locator('.text'))).toBe('none');
    await pick(fresh);
    expect(await details(page).locator('.path').textContent()).toBe('/var/cache/app/fresh.cache');
    expect(await row(page, 'a.cache').getAttribute('aria-label')).toMatch(/^a\.cache, file, deleted/);

    const config = row(page, 'config.yaml');
    expect(await config.getAttribute('aria-label')).toMatch(/^config\.yaml, file, modified/);
    expect(await config.locator('.diff').textContent()).toBe('M');
    expect(await config.locator('.mode').textContent()).toBe('-rw-------');
    await pick(config);
    const d = details(page);
    expect(await d.locator('.path').textContent()).toBe('/etc/app/config.yaml');
    expect(await d.innerText()).toMatch(/Mode\s+-rw------- \(0600\)/);
    // chmod only: the content is layer 2's
    await expect.poll(() => preview(page).textContent()).toBe('listen: 8080\nlog_level: debug\nworkers: 4\n');
    await d.getByRole('button', { name: /layer 2: modified/ }).click();
    await expect.poll(() => d.innerText()).toMatch(/Mode\s+-rw-r--r-- \(0644\)/);
    expect(page.url()).toContain('layer=1');
    await layer(page, 3, "This layer's changes");

    await select(page, '/home/app');
    const home = row(page, 'app').last();
    expect(await home.getAttribute('aria-level')).toBe('2');
    expect(await home.getAttribute('aria-label')).toMatch(/^app, directory, modified/);
    expect(await home.locator('.owner').textContent()).toBe('101:101');
    expect(await details(page).innerText()).toMatch(/Owner\s+101:101/);

    // the column header lines up with the rows (its columns are in ch of the same font size)
    const right = (sel: string) => page.locator(sel).first().evaluate((e) => e.getBoundingClientRect().right);
    expect(Math.abs(await right('.header .r') - await right('[role=treeitem] .size'))).toBeLessThan(1);

    const counts = await page.getByRole('button', { name: /^#3 / }).locator('.counts').innerText();
    // added fresh.cache; modified config.yaml, /home/app, index.html, /var/cache/app, the dpkg status;
    // deleted motd, old/ (2 files), a.cache, b.cache, build/ (1 file), the key, doc/curl/ (1 file)
    expect(counts.replace(/\s+/g, '')).toBe('A1M5D11');
  });

  test('layer 2: added files, a symlink jumps to its target, a hardlink group', async () => {
    const page = await openSample();
    await layer(page, 2, "This layer's changes");
    await page.getByRole('button', { name: 'Expand all' }).click();
    expect(await row(page, 'server.js').getAttribute('aria-label')).toBe('server.js, file, added, 85 B');
    const link = row(page, 'server');
    expect(await link.getAttribute('aria-label')).toBe('server, symlink, added, to /app/server.js, 0 B');
    expect(await link.innerText()).toContain('→ /app/server.js');
    await pick(link);
    expect(await details(page).locator('.path').textContent()).toBe('/usr/bin/server');
    await details(page).getByRole('button', { name: 'go to target /app/server.js' }).click();
    await expect.poll(() => details(page).locator('.path').textContent()).toBe('/app/server.js');
    expect(await row(page, 'server.js').getAttribute('aria-selected')).toBe('true');
    expect(page.url()).toContain('path=/app/server.js');

    await pick(row(page, 'server-copy.js'));
    const d = details(page);
    await expect.poll(() => d.locator('.path').textContent()).toBe('/app/server-copy.js');
    expect(await d.innerText()).toMatch(/Hardlinks\s+\/app\/server\.js/);
    await d.getByRole('button', { name: '/app/server.js' }).click();
    await expect.poll(() => d.locator('.path').textContent()).toBe('/app/server.js');
    expect(await d.innerText()).toMatch(/Hardlinks\s+\/app\/server-copy\.js/);
  });

  test('filter by glob and by substring, in both modes', async () => {
    const page = await openSample();
    const filter = page.getByRole('searchbox', { name: /Filter paths/ });
    await filter.fill('*.cache');
    await filter.press('Enter');
    // all layers: the opaque directory left only fresh.cache
    expect(await rowNames(page)).toEqual(['var', 'cache', 'app', 'fresh.cache']);
    expect(await page.getByText('1 match', { exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: "This layer's changes" }).click();
    expect(await rowNames(page)).toEqual(['var', 'cache', 'app', 'a.cache', 'b.cache', 'fresh.cache']);
    await page.getByRole('button', { name: 'All layers up to here' }).click();
    await filter.fill('server');
    await filter.press('Enter');
    expect(await rowNames(page)).toEqual(['app', 'server-copy.js', 'server.js', 'usr', 'bin', 'server']);
    await filter.fill('no-such-path');
    await filter.press('Enter');
    expect(await page.getByRole('treeitem').count()).toBe(0);
    expect(await page.getByText('No paths match “no-such-path”.').count()).toBe(1);
    await filter.press('Escape');
    expect(await rowNames(page)).toEqual(['app', 'bin', 'dev', 'etc', 'home', 'opt', 'root', 'srv', 'tmp', 'usr', 'var']);
  });

  test('previews: text in monospace, binary as hex, PNG as an image, HTML as inert text', async () => {
    const page = await openSample();
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });

    await select(page, '/etc/os-release');
    await expect.poll(() => preview(page).textContent()).toBe('NAME="Strata sample"\nID=strata\nVERSION_ID=1\n');
    expect(await preview(page).evaluate((e) => getComputedStyle(e).fontFamily)).toMatch(/mono/i);
    expect(await preview(page).isVisible()).toBe(true);

    await select(page, '/opt/tool/bin/tool');
    await expect.poll(() => details(page).innerText()).toContain('Binary file');
    const hex = await preview(page).textContent();
    expect(hex!.split('\n')[0]).toMatch(/^00000000 {2}7f 45 4c 46 02 01 01 [0-9a-f]{2} {2}([0-9a-f]{2} ){8} \|\.ELF/);
    expect(hex!.split('\n').length).toBe(Math.ceil(3000 / 16));

    await select(page, '/srv/www/logo.png');
    const img = details(page).getByRole('img', { name: 'Preview of logo.png' });
    await img.waitFor();
    expect(await img.getAttribute('src')).toMatch(/^blob:http:\/\/127\.0\.0\.1:\d+\//);
    await expect.poll(() => img.evaluate((e: HTMLImageElement) => e.complete && e.naturalWidth)).toBe(32);
    expect(await img.evaluate((e: HTMLImageElement) => e.naturalHeight)).toBe(32);

    const scripts = await page.evaluate(() => document.scripts.length);
    await select(page, '/srv/www/index.html');
    await expect.poll(() => preview(page).textContent())
      .toBe('<!doctype html>\n<h1>Hello</h1>\n<script>alert("never run by Strata")</script>\n');
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => document.scripts.length)).toBe(scripts);
    expect(await details(page).locator('h1, script, iframe').count()).toBe(0);
  });

  test('large files: text shown in part (a UTF-8 character cut by the window is dropped), binary in part as hex', async () => {
    const window = 256 * 1024;
    const text = 'a'.repeat(window - 1) + 'é'.repeat(20_000); // 'é' is 2 bytes: the window ends inside one
    const bin = new Uint8Array(10_000).map((_, i) => (i * 7919) & 0xff);
    const layer = tar([{ name: 'big.txt', data: text }, { name: 'big.bin', data: bin }]);
    const archive = ociArchive({ layers: [layer], refName: 'previews:1' });
    const page = await openSample();
    await chooseFile(page, { name: 'previews.tar', mimeType: 'application/x-tar', buffer: Buffer.from(archive) });
    await expect.poll(() => page.locator('header').innerText()).toContain('previews:1');

    await select(page, '/big.txt');
    await expect.poll(() => details(page).innerText()).toContain('Showing the first 262 KB of 302 KB.');
    const shown = await preview(page).textContent();
    expect(shown!.length).toBe(window - 1);
    expect(shown!.endsWith('aaa')).toBe(true);

    await select(page, '/big.bin');
    await expect.poll(() => details(page).innerText()).toContain('Binary file; first 4.1 KB of 10.0 KB.');
    expect((await preview(page).textContent())!.split('\n').length).toBe(4096 / 16);
  });

  test.each(['light', 'dark'] as const)('%s theme: text is readable (WCAG contrast ≥ 4.5) in the notice, tree, details and layers', async (scheme) => {
    const page = await openSample(scheme);
    await page.getByRole('status').filter({ hasText: 'Ready to work offline' }).waitFor({ timeout: 30_000 });
    await select(page, '/etc/os-release');
    const checks: [string, string][] = [
      ['notice', '[role=status]'], ['tree row', '[role=treeitem] .text'], ['details path', '.details .path'],
      ['details value', '.details dd'], ['layer command', '.layers .cmd'], ['preview', '.details pre'],
    ];
    for (const [what, sel] of checks) {
      const [fg, bg] = await page.locator(sel).first().evaluate((e) => {
        let el: Element | null = e;
        let bg = 'rgba(0, 0, 0, 0)';
        // the first ancestor with an opaque background is what the text is drawn on
        while (el && /rgba\(.*, 0\)$|transparent/.test(bg)) { bg = getComputedStyle(el).backgroundColor; el = el.parentElement; }
        return [getComputedStyle(e).color, bg];
      });
      expect(contrast(fg, bg), `${what}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  test('downloads: a file, a folder as tar, the flattened tar (= the CLI flatten)', async () => {
    const page = await openSample();

    await select(page, '/opt/tool/bin/tool');
    const file = await download(page, () => details(page).getByRole('button', { name: 'Download file' }).click(), join(out.dir, 'tool'));
    expect(file.name).toBe('tool');
    const want = execFileSync('tar', ['-xOf', cliTar, 'opt/tool/bin/tool']);
    expect(want.length).toBe(3000);
    expect(Buffer.compare(readFileSync(file.path), want)).toBe(0);

    await select(page, '/etc');
    const folder = await download(page, () => details(page).getByRole('button', { name: 'Download folder as .tar' }).click(), join(out.dir, 'etc.tar'));
    expect(folder.name).toBe('etc.tar');
    const tv = (tarPath: string) => execFileSync('tar', ['-tvf', tarPath], { encoding: 'utf8' }).trim().split('\n');
    const etc = tv(folder.path);
    expect(etc).toEqual(tv(cliTar).filter((l) => / etc\//.test(l)));
    expect(etc.some((l) => l.endsWith(' etc/motd'))).toBe(false);
    expect(etc.find((l) => l.endsWith(' etc/app/config.yaml'))).toMatch(/^-rw------- 0\/0 /);

    await page.getByRole('button', { name: 'Image', exact: true }).click();
    const flat = await download(page, () => page.getByRole('button', { name: /flattened.*\(\.tar\)/ }).click(), join(out.dir, 'browser-flat.tar'));
    expect(flat.name).toBe('strata-sample_1.0-rootfs.tar');
    const [cliList, cliExtra] = await tarListing(cliTar, out.dir, 'cli');
    const check = await checkFlatten(flat.path, cliList, cliExtra);
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    expect(Number(/identical: (\d+)/.exec(check.stdout)![1])).toBeGreaterThan(40);

    // as of layer 2: /etc/motd and the old cache files are still there
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    await page.getByRole('button', { name: /^#2 / }).click();
    await page.getByRole('button', { name: 'Image', exact: true }).click();
    expect(await page.getByText('as of layer 2 of 3').count()).toBe(1);
    const flat2 = await download(page, () => page.getByRole('button', { name: /flattened.*\(\.tar\)/ }).click(), join(out.dir, 'browser-flat2.tar'));
    expect(flat2.name).toBe('strata-sample_1.0-layer2-rootfs.tar');
    const [cli2List, cli2Extra] = await tarListing(cliTar2, out.dir, 'cli2');
    expect(readFileSync(cli2List, 'utf8')).toContain('/etc/motd');
    const check2 = await checkFlatten(flat2.path, cli2List, cli2Extra);
    expect(check2.stdout + check2.stderr).toMatch(/^identical: \d+ paths/);
  });

  test('narrow layout: the selected layer stays in view in the short layers box as [ and ] change it', async () => {
    const context = await newContext(browser, { viewport: { width: 700, height: 640 } });
    const page = await context.newPage();
    opened.push({ context, problems: watchPage(page) });
    await page.goto(site.url);
    await page.getByRole('button', { name: 'Try the sample image' }).click();
    await waitForImage(page);
    const inView = (n: number) => page.evaluate((k) => {
      const row = document.querySelector(`.layers [data-layer="${k}"]`)!.getBoundingClientRect();
      const box = document.querySelector('.layers .list')!.getBoundingClientRect();
      return { fits: row.top >= box.top - 0.5 && row.bottom <= box.bottom + 0.5, boxHeight: box.height, rowHeight: row.height };
    }, n);
    const first = await inView(2);
    expect(first.boxHeight).toBeLessThan(3 * first.rowHeight); // the box cannot show every layer at once
    expect(first.fits).toBe(true);
    await page.getByRole('tree').focus();
    for (const [key, layer] of [['[', 1], ['[', 0], [']', 1], [']', 2]] as const) {
      await page.keyboard.press(key);
      await expect.poll(() => page.locator('header').innerText()).toContain(`layer ${layer + 1}/3`);
      await expect.poll(() => inView(layer).then((v) => v.fits), { timeout: 2000 }).toBe(true);
    }
  });

  test('keyboard only: arrows, Right/Left expand and collapse, Enter, /, [ and ], Tab between panes', async () => {
    const page = await openSample();
    const tree = page.getByRole('tree');
    await tree.focus();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('tree');

    // every row: treeitem with a level, and an accessible name that begins with its file name
    const items = await page.getByRole('treeitem').evaluateAll((els) => els.map((e) => ({
      level: e.getAttribute('aria-level'), label: e.getAttribute('aria-label'), name: e.querySelector('.text')?.textContent,
    })));
    expect(items.length).toBe(11);
    for (const it of items) {
      expect(it.level).toBe('1');
      expect(it.label!.startsWith(`${it.name}, `)).toBe(true);
    }

    const selected = () => page.locator('[role=treeitem][aria-selected=true]').getAttribute('aria-label');
    await page.keyboard.press('ArrowDown');
    expect(await selected()).toMatch(/^app, directory/);
    expect(await tree.getAttribute('aria-activedescendant')).toBe(await row(page, 'app').getAttribute('id'));
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await selected()).toMatch(/^etc, directory/);
    const etc = row(page, 'etc');
    expect(await etc.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('ArrowRight');
    expect(await etc.getAttribute('aria-expanded')).toBe('true');
    expect(await rowNames(page)).toContain('os-release');
    await page.keyboard.press('ArrowRight'); // into the first child
    expect(await selected()).toMatch(/^app, directory/);
    expect(await page.locator('[role=treeitem][aria-selected=true]').getAttribute('aria-level')).toBe('2');
    await page.keyboard.press('ArrowLeft'); // to the parent
    expect(await selected()).toMatch(/^etc, directory/);
    await page.keyboard.press('ArrowLeft'); // collapse
    expect(await etc.getAttribute('aria-expanded')).toBe('false');
    expect(await rowNames(page)).not.toContain('os-release');

    await page.keyboard.press('ArrowRight');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown'); // app, group, os-release (motd is gone at layer 3)
    expect(await selected()).toMatch(/^os-release, file/);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => !!document.activeElement?.closest('.details'))).toBe(true);
    expect(await details(page).locator('.path').textContent()).toBe('/etc/os-release');

    await tree.focus();
    await page.keyboard.press('/');
    const filter = page.getByRole('searchbox', { name: /Filter paths/ });
    await expect.poll(() => filter.evaluate((e) => e === document.activeElement)).toBe(true);
    await page.keyboard.type('passwd');
    await page.keyboard.press('Enter'); // applies and returns to the tree
    expect(await page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('tree');
    expect(await rowNames(page)).toEqual(['etc', 'passwd']);
    await page.keyboard.press('Escape');

    await page.keyboard.press('[');
    await expect.poll(() => page.locator('header').innerText()).toContain('layer 2/3');
    expect(page.url()).toContain('layer=1');
    await page.keyboard.press('[');
    await page.keyboard.press('[');
    await expect.poll(() => page.locator('header').innerText()).toContain('layer 1/3');
    await page.keyboard.press(']');
    await expect.poll(() => page.locator('header').innerText()).toContain('layer 2/3');
    expect(await page.getByRole('button', { name: /^#2 / }).getAttribute('aria-current')).toBe('true');

    // Tab leaves the tree for the details pane; Shift+Tab from the layers list goes back to the header
    await tree.focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('.details'))).toBe(true);
    await page.getByRole('button', { name: /^#2 / }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('.pane.tree'))).toBe(true);
    await page.keyboard.press('ArrowDown'); // the toolbar: not the tree; nothing moves
    await page.getByRole('button', { name: /^#2 / }).focus();
    await page.keyboard.press('ArrowDown'); // the layers list has its own arrows
    await expect.poll(() => page.locator('header').innerText()).toContain('layer 3/3');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-layer'))).toBe('2');
  });
});

/** WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)" / "rgba(…)") */
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
