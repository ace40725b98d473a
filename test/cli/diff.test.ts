// strata diff as a user runs it: lines and JSON equal to the comparison derived from the expected
// listings (edge as of each layer against its last, edge's docker archive against its OCI one, two
// different fixtures), packages of the sample image, exit status 0 whether or not they differ,
// usage errors (2) and bad input on either side (1, one line naming the file).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { dockerArchive, tar } from '../helpers/build.ts';
import { FIXTURES, ROOT, SHARED, strata } from '../helpers/cli.ts';
import { deriveChanges, readListing, type Listing } from '../core/compare/listing.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const gen = (f: string) => join(FIXTURES, 'generated', f);
const peer = (f: string) => join(FIXTURES, 'peers', f);
const expected = (name: string) => readListing(join(FIXTURES, 'peers/expected', `${name}.expected.tsv`));
const edgeListing = () => readListing(gen('edge.expected.tsv'), gen('edge.expected-extra.tsv'));
const SAMPLE = join(ROOT, 'public/sample.tar');

interface Json { files: { path: string; change: string; what: string[] }[]; packages: unknown[] | null; config: unknown[]; sharedLayers: number; sizeA: number; sizeB: number }

async function diffJson(args: string[]): Promise<Json> {
  const r = await strata(['diff', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Json;
}

const lines = (j: Json) => j.files.map((f) => (f.change === 'modified' ? `modified ${f.path} ${f.what.join(',')}` : `${f.change} ${f.path}`));
const textOf = (j: Json) => j.files.map((f) => `${f.change[0].toUpperCase()}${f.change.slice(1)}: ${f.path}${f.what.length ? ` (${f.what.join(', ')})` : ''}`);

async function listingAt(image: string, k: number): Promise<Listing> {
  const t = join(dir, `at-${k}.tar`);
  expect((await strata(['flatten', image, '--layer', String(k), '-o', t])).code).toBe(0);
  execFileSync('python3', [join(SHARED, 'tools/tar-listing.py'), t, `${t}.tsv`, `${t}-extra.tsv`]);
  return readListing(`${t}.tsv`, `${t}-extra.tsv`);
}

describe('strata diff', () => {
  test('edge as of each layer against its last: the same lines as the listings give, and the text form', async () => {
    for (const k of [1, 2, 3, 4]) {
      const want = deriveChanges(await listingAt(gen('edge.oci.tar'), k), edgeListing());
      expect(want.length).toBeGreaterThan(0);
      const j = await diffJson([gen('edge.oci.tar'), gen('edge.oci.tar'), '--layer-a', String(k)]);
      expect(lines(j), `layer ${k}`).toEqual(want);
      expect(j.sharedLayers).toBe(k);
    }
    const r = await strata(['diff', gen('edge.oci.tar'), gen('edge.oci.tar'), '--layer-a', '2', '--layer-b', '5']);
    expect(r.code).toBe(0);
    const j = await diffJson([gen('edge.oci.tar'), gen('edge.oci.tar'), '--layer-a', '2']);
    expect(r.stdout.split('\n\n')[0].split('\n')).toEqual(textOf(j));
    expect(r.stdout).toContain('\nModified: /data/refill_opaque/keep (content)\n');
    expect(r.stdout).toMatch(/\nLayers: A edge.* as of layer 2 of 5, B .* as of layer 5 of 5; 2 leading layers shared \(same diff_id\); new in B: 3, 4, 5\n$/);
  });

  test('the same image in two archive formats: nothing differs, nothing is hashed, exit 0', async () => {
    const r = await strata(['diff', gen('edge.docker.tar'), gen('edge.oci-zstd.tar')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Files: 0 added, 0 modified, 0 deleted\nSize: /);
    expect(r.stdout).toContain('5 leading layers shared');
  });

  test('two different fixtures: the derived comparison, sizes, and exit 0', async () => {
    const j = await diffJson([peer('dive__test-docker-image.tar'), peer('go-containerregistry__whiteout_image.tar')]);
    const a = expected('dive__test-docker-image'), b = expected('go-containerregistry__whiteout_image');
    expect(lines(j)).toEqual(deriveChanges(a, b));
    const total = (l: Listing) => [...l.values()].filter((r) => r.type === 'file').reduce((s, r) => s + Number(r.size), 0);
    expect([j.sizeA, j.sizeB]).toEqual([total(a), total(b)]);
    expect(j.sharedLayers).toBe(0);
  });

  test('packages and config of the sample image, layer 2 against 3', async () => {
    const j = await diffJson([SAMPLE, SAMPLE, '--layer-a', '2', '--layer-b', '3']);
    expect(j.packages).toEqual([
      { ecosystem: 'deb', name: 'curl', arch: 'amd64', change: 'removed', from: '7.88.1-10+deb12u5', to: null, location: '/var/lib/dpkg/status' },
      { ecosystem: 'deb', name: 'libssl3', arch: 'amd64', change: 'changed', from: '3.0.11-1~deb12u2', to: '3.0.13-1~deb12u1', location: '/var/lib/dpkg/status' },
    ]);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['files', 'packages', 'config', 'sharedLayers', 'sizeA', 'sizeB']));
    const r = await strata(['diff', SAMPLE, SAMPLE, '--layer-a', '2']);
    expect(r.stdout).toContain('Packages: 0 added, 1 removed, 1 changed\n  deb    curl:amd64  removed 7.88.1-10+deb12u5\n  deb    libssl3:amd64  3.0.11-1~deb12u2 → 3.0.13-1~deb12u1\n');
    expect(r.stdout).toContain('\nDeleted: /usr/share/doc/curl\n');
  });

  test('an image against itself: empty, exit 0', async () => {
    const r = await strata(['diff', SAMPLE, SAMPLE, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Json;
    expect([j.files, j.packages, j.config]).toEqual([[], [], []]);
  });

  const corrupt = join(dir, 'b-broken.tar');
  writeFileSync(corrupt, readFileSync(gen('edge.docker.tar')).subarray(0, 1_000_000));
  const twoLayers = join(dir, 'two.tar');
  writeFileSync(twoLayers, dockerArchive({ layers: [tar([{ name: 'a', data: 'a' }]), tar([{ name: 'b', data: 'b' }])] }));

  test.each<[string, string[], number, RegExp]>([
    ['one image only', [SAMPLE], 2, /^strata: diff needs two images: A B\n/],
    ['a third image', [SAMPLE, SAMPLE, SAMPLE], 2, /^strata: unexpected argument/],
    ['--layer instead of --layer-a', [SAMPLE, SAMPLE, '--layer', '1'], 2, /^strata: diff takes --layer-a and --layer-b, not --layer\n/],
    ['--image instead of --image-b', [SAMPLE, SAMPLE, '--image', '0'], 2, /^strata: diff takes --image-a and --image-b, not --image\n/],
    ['layer 0', [SAMPLE, SAMPLE, '--layer-b', '0'], 2, /^strata: --layer-b takes a layer number from 1, not "0"\n/],
    ['a layer past the end of B', [SAMPLE, twoLayers, '--layer-b', '3'], 2, /^strata: --layer-b 3: the image has 2 layers\n$/],
    ['B does not exist', [SAMPLE, join(dir, 'nope.tar')], 1, /^strata: .*nope\.tar: no such file\n$/],
    ['B is truncated', [SAMPLE, corrupt], 1, /^strata: b-broken\.tar[: ].*truncated.*\n$/],
    ['A is truncated', [corrupt, SAMPLE], 1, /^strata: b-broken\.tar[: ].*truncated.*\n$/],
    ['B holds two images and none is chosen', [SAMPLE, peer('go-containerregistry__test_bundle.tar')], 1, /^strata: go-containerregistry__test_bundle\.tar holds 2 images.*Choose one \(CLI: --image-b N or --image-b TAG\)/],
    ['--image-b names no image', [SAMPLE, peer('go-containerregistry__test_bundle.tar'), '--image-b', '7'], 1, /^strata: go-containerregistry__test_bundle\.tar has no image "7"/],
  ])('%s', async (_name, args, code, stderr) => {
    const r = await strata(['diff', ...args]);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr.trimEnd().split('\n').length === 1 || code === 2).toBe(true);
    if (code === 1) expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
  });

  test('--image-a / --image-b choose inside a multi-image archive', async () => {
    const bundle = peer('go-containerregistry__test_bundle.tar');
    const j = await diffJson([bundle, bundle, '--image-a', '0', '--image-b', '1']);
    const r = await strata(['diff', bundle, bundle, '--image-a', '0', '--image-b', '0', '--json']);
    expect(JSON.parse(r.stdout).files).toEqual([]);
    expect(j.files.length + j.config.length).toBeGreaterThan(0);
  });
});
