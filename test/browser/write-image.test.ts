// Written images from the real site in Chromium: the Image view's downloads (squashed, as of a
// layer) are byte-identical to `strata squash` / `strata cut` for the same options and the same
// pinned creation time (the page's clock is fixed). Where they cannot be — kept layers the archive
// shipped compressed, which the browser stores decompressed — the browser's archive is checked by
// skopeo and umoci instead, and its config against the CLI's.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { dockerArchive, tar } from '../helpers/build.ts';
import { strata } from '../helpers/cli.ts';
import {
  FIXTURES, chooseFile, closeSitePage, download, openSitePage, run, tempDir, unexpected, waitForImage, type Site, type SitePage,
} from './site.ts';

const gen = join(FIXTURES, 'generated');
const CREATED = '2024-03-04T05:06:07Z';

let site: Site;
let opened: SitePage | undefined;
let page: Page;
let problems: string[];
const out = tempDir('write-image');

/** a gzip image whose squashed layer spans several gzip blocks: text that compresses, but not to nothing */
function bigImage(): string {
  const text = new TextEncoder().encode(Array.from({ length: 450_000 }, (_, i) => `${i} ${(i * 2654435761) % 99991} ${'abcdefghij'.slice(i % 7)}\n`).join(''));
  const path = join(out.dir, 'big-text.tar');
  writeFileSync(path, dockerArchive({
    layers: [tar([{ name: 'data', kind: 'dir' }, { name: 'data/text.txt', data: text }, { name: 'data/gone', data: 'x' }]), tar([{ name: 'data/.wh.gone', data: '' }, { name: 'data/new', data: 'y' }])],
    compress: 'gzip', tags: ['big/text:1'],
  }));
  return path;
}

async function open(image: string, layer?: number): Promise<void> {
  await page.goto(site.url);
  await chooseFile(page, image);
  await waitForImage(page);
  if (layer) await page.getByRole('button', { name: new RegExp(`^#${layer}`) }).click();
  await page.getByRole('button', { name: 'Image', exact: true }).click();
}

async function browserWrite(what: 'squash' | 'cut', o: { format: 'docker' | 'oci'; keep?: number; gzip?: boolean }, file: string): Promise<string> {
  await page.getByLabel('Format').selectOption(o.format);
  if (what === 'squash') {
    const keep = o.keep ?? 0;
    await page.getByLabel('Layers kept below the squashed one').selectOption({ label: keep === 0 ? 'none: one layer' : keep === 1 ? 'layer 1' : `layers 1–${keep}` });
    await page.getByLabel('gzip the squashed layer').setChecked(o.gzip ?? true);
  }
  const button = page.getByRole('button', { name: what === 'squash' ? 'Download squashed image' : 'Download image as of this layer' });
  const saved = await download(page, () => button.click(), join(out.dir, file));
  return saved.path;
}

async function cliWrite(args: string[], file: string): Promise<string> {
  const path = join(out.dir, file);
  const r = await strata([...args, '-o', path, '--created', CREATED]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return path;
}

const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe('written images in Chromium = strata squash / cut, byte for byte', () => {
  beforeAll(async () => {
    opened = await openSitePage();
    ({ site, page, problems } = opened);
    await page.clock.setFixedTime(new Date(CREATED));
  });
  afterAll(async () => {
    await closeSitePage(opened);
    out.remove();
  });

  test('squash, gzip layer in many blocks (pool workers in the page, worker threads in the CLI), OCI', async () => {
    const image = bigImage();
    await open(image);
    const got = await browserWrite('squash', { format: 'oci', gzip: true }, 'big-browser.tar');
    const want = await cliWrite(['squash', image, '--format', 'oci'], 'big-cli.tar');
    expect(readFileSync(want).length).toBeGreaterThan(1 << 20);
    expect(same(got, want)).toBe(true);
    expect(unexpected(problems)).toEqual([]);
  });

  test('edge.oci.tar: squash to one gzip layer, docker format', async () => {
    await open(join(gen, 'edge.oci.tar'));
    const got = await browserWrite('squash', { format: 'docker' }, 'edge-sq-browser.tar');
    expect(same(got, await cliWrite(['squash', join(gen, 'edge.oci.tar'), '--format', 'docker'], 'edge-sq-cli.tar'))).toBe(true);
  });

  test('edge.docker.tar (uncompressed layers): keep 2 below an uncompressed squashed layer, OCI', async () => {
    await open(join(gen, 'edge.docker.tar'));
    const got = await browserWrite('squash', { format: 'oci', keep: 2, gzip: false }, 'edge-k2-browser.tar');
    expect(same(got, await cliWrite(['squash', join(gen, 'edge.docker.tar'), '--format', 'oci', '--keep-layers', '2', '--no-compress'], 'edge-k2-cli.tar'))).toBe(true);
  });

  test('edge.docker.tar: the image as of layer 3, docker format', async () => {
    await open(join(gen, 'edge.docker.tar'), 3);
    const got = await browserWrite('cut', { format: 'docker' }, 'edge-cut-browser.tar');
    expect(same(got, await cliWrite(['cut', join(gen, 'edge.docker.tar'), '--format', 'docker', '--layer', '3'], 'edge-cut-cli.tar'))).toBe(true);
    expect(unexpected(problems)).toEqual([]);
  });

  test('progress shows, cancel stops the work, and the next download still works', async () => {
    // ~48 MB that deflates slowly: long enough to be cancelled in the middle
    let seed = 7;
    const bytes = new Uint8Array(48 << 20);
    for (let i = 0; i < bytes.length; i++) { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; bytes[i] = 97 + ((seed >>> 16) % 26); }
    const path = join(out.dir, 'slow.tar');
    writeFileSync(path, dockerArchive({ layers: [tar([{ name: 'slow.txt', data: bytes }]), tar([{ name: 'small', data: 's' }])], compress: 'gzip' }));
    await open(path);
    let downloads = 0;
    const count = () => downloads++;
    page.on('download', count);
    await page.getByLabel('gzip the squashed layer').setChecked(true);
    await page.getByRole('button', { name: 'Download squashed image' }).click();
    const status = page.getByRole('status', { name: 'Image archive progress' });
    await expect.poll(() => status.innerText(), { timeout: 30_000 }).toMatch(/Compressing the squashed layer — .+ of /);
    await status.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => status.count()).toBe(0);
    await page.waitForTimeout(1000);
    page.off('download', count);
    expect(downloads).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    // the pool is free again: a small download goes through
    const got = await browserWrite('cut', { format: 'oci' }, 'after-cancel.tar');
    expect(readFileSync(got).length).toBeGreaterThan(48 << 20);
    expect(unexpected(problems)).toEqual([]);
  });

  test('an image whose layer does not match its diff_id: the download is refused with a banner that says so', async () => {
    const path = join(out.dir, 'tampered.tar');
    writeFileSync(path, dockerArchive({ layers: [tar([{ name: 'a', data: 'a' }]), tar([{ name: 'b', data: 'b' }])], badDiffId: 1 }));
    await open(path);
    const verification = page.getByRole('table').filter({ hasText: 'Digest / diff ID' }).locator('tbody tr td:last-child');
    await expect.poll(() => verification.allInnerTexts(), { timeout: 30_000 }).toContainEqual(expect.stringMatching(/mismatch/i));
    let downloads = 0;
    const count = () => downloads++;
    page.on('download', count);
    await page.getByRole('button', { name: 'Download squashed image' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.count(), { timeout: 30_000 }).toBe(1);
    expect(await alert.innerText()).toMatch(/Layer 2 of ".*" does not match its digest .*would not load/);
    page.off('download', count);
    expect(downloads).toBe(0);
  });

  test('edge.oci.tar, keep 1: the kept gzip layer is written uncompressed (the one difference), and real tools load it', async () => {
    await open(join(gen, 'edge.oci.tar'));
    expect(await page.getByText('Kept layers that the archive shipped compressed are written uncompressed').count()).toBe(1);
    const got = await browserWrite('squash', { format: 'oci', keep: 1 }, 'edge-k1-browser.tar');
    const want = await cliWrite(['squash', join(gen, 'edge.oci.tar'), '--format', 'oci', '--keep-layers', '1'], 'edge-k1-cli.tar');
    expect(same(got, want)).toBe(false);
    const manifest = (path: string) => {
      const index = JSON.parse(String(spawnSync('tar', ['-xOf', path, 'index.json']).stdout));
      return JSON.parse(String(spawnSync('tar', ['-xOf', path, `blobs/sha256/${index.manifests[0].digest.slice(7)}`]).stdout));
    };
    const config = (path: string) => JSON.parse(String(spawnSync('tar', ['-xOf', path, `blobs/sha256/${manifest(path).config.digest.slice(7)}`]).stdout));
    const [b, c] = [manifest(got), manifest(want)];
    // the kept layer: the same diff_id; in the browser its blob is that uncompressed stream
    expect(config(got).rootfs).toEqual(config(want).rootfs);
    expect(b.layers[0]).toMatchObject({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: config(got).rootfs.diff_ids[0] });
    expect(c.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    // the squashed layer is the same blob
    expect(b.layers[1]).toEqual(c.layers[1]);
    const { history: hb, ...restB } = config(got);
    const { history: hc, ...restC } = config(want);
    expect(restB).toEqual(restC);
    expect(hb).toEqual(hc);
    if (spawnSync('umoci', ['--version']).status !== 0 && process.env.CI_REQUIRE_TOOLS !== '1') return;
    const layout = join(out.dir, 'k1-layout');
    expect(await run('skopeo', ['copy', '-q', `oci-archive:${got}`, `oci:${layout}:t`])).toMatchObject({ code: 0 });
    expect(await run('umoci', ['unpack', '--image', `${layout}:t`, join(out.dir, 'k1-bundle')])).toMatchObject({ code: 0 });
    expect(await run('python3', [join(gen, 'list_rootfs.py'), join(out.dir, 'k1-bundle', 'rootfs'), join(out.dir, 'k1.tsv'), join(out.dir, 'k1-extra.tsv')])).toMatchObject({ code: 0 });
    expect(readFileSync(join(out.dir, 'k1.tsv'), 'utf8')).toBe(readFileSync(join(gen, 'edge.expected.tsv'), 'utf8'));
    expect(readFileSync(join(out.dir, 'k1-extra.tsv'), 'utf8')).toBe(readFileSync(join(gen, 'edge.expected-extra.tsv'), 'utf8'));
    expect(unexpected(problems)).toEqual([]);
  });
});
