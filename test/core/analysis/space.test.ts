// Space: dive's numbers on dive's own test image (as dive's tests assert them), the corrected
// numbers on every shared fixture against an independent computation (Python's tarfile over the
// layers, the expected listing for the merged filesystem), and hidden-content cases.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { diveNumbers } from '../../../src/core/analysis/dive.ts';
import { analyzeSpace } from '../../../src/core/analysis/space.ts';
import { fileVersions } from '../../../src/core/analysis/versions.ts';
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { dockerArchive, tar, type Spec } from '../../helpers/build.ts';
import { importBytes } from '../../helpers/run.ts';

const FIXTURES = join(import.meta.dirname, '../../../../shared/fixtures');
const load = async (path: string) => importBytes(new Uint8Array(readFileSync(path)));

describe("dive's numbers", () => {
  test("dive's test image: what dive's own tests assert (image_archive_analysis_test.go, export_test.go)", async () => {
    const res = await load(join(FIXTURES, 'peers/dive__test-docker-image.tar'));
    const d = diveNumbers(res.tree);
    expect(d.efficiencyScore).toBe(0.9844212134184309);
    expect(d.sizeBytes).toBe(1220598);
    expect(d.userSizeBytes).toBe(66237);
    expect(d.inefficientBytes).toBe(32025);
    expect(d.wastedUserPercent).toBe(0.4834911001404049);
    expect(d.inefficientFiles).toEqual([
      { count: 2, sizeBytes: 12810, file: '/root/saved.txt' },
      { count: 2, sizeBytes: 12810, file: '/root/example/somefile1.txt' },
      { count: 2, sizeBytes: 6405, file: '/root/example/somefile3.txt' },
    ]);
    // export_test.go's per-layer sizeBytes are dive's layer sizes: our shipped bytes per layer
    const { waste } = analyzeSpace(res.tree);
    expect(waste.layers.map((l) => l.shippedBytes)).toEqual([1154361, 6405, 0, 6405, 6405, 6405, 6405, 6405, 6405, 0, 2187, 6405, 6405, 6405]);
  });

  test('a whiteout of a path that never existed ends dive\'s walk of that layer (as dive does)', async () => {
    const img = dockerArchive({ layers: [tar([{ name: 'a', data: 'x' }, { name: 'b', data: 'yy' }]), tar([{ name: '.wh.a0', data: '' }, { name: 'b', data: 'zzz' }])] });
    const d = diveNumbers((await importBytes(img)).tree);
    // layer 2's walk stops at ".wh.a0" (sorted before "b"): its copy of b is not counted
    expect(d.inefficientFiles).toEqual([]);
    expect(d.efficiencyScore).toBe(1);
  });
});

// Layers without whiteouts are counted from the model alone (no per-layer trees, no sorting);
// the tree walk every layer took before is the reference they must equal exactly, ties included.
describe("dive's numbers without per-layer trees equal the tree walk", () => {
  const fixtures = () => [join(FIXTURES, 'peers/dive__test-docker-image.tar'), ...cases.map((c) => c.image)];
  test('every shared fixture', async () => {
    for (const image of fixtures()) {
      const { tree } = await load(image);
      expect(diveNumbers(tree), image).toEqual(diveNumbers(tree, { walkTrees: true }));
    }
  });

  test('300 seeded random images: copies across layers with equal sizes, names that sort apart as strings and as paths, duplicates in a layer, hardlinks, whiteouts', async () => {
    let seed = 20261130;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
    // "a-b" sorts before "a/x" as a string, after "a" as a path component: dive walks by component
    const names = ['a', 'a-b', 'a.b', 'a/x', 'a/x/y', 'a/z', 'b', 'b/c', 'b/c/d', 'ab', 'c', 'a/x-1', 'a/x/0'];
    let withTies = 0;
    for (let i = 0; i < 300; i++) {
      const layers: Spec[][] = [];
      const nLayers = 1 + rnd(4);
      for (let k = 0; k < nLayers; k++) {
        const specs: Spec[] = [];
        const used = new Map<string, 'f' | 'd' | 'w' | 'h'>(); // a path keeps its kind within a layer
        for (let j = 0, m = 2 + rnd(12); j < m; j++) {
          const name = names[rnd(names.length)];
          const was = used.get(name);
          if (was && (was !== 'f' || rnd(3))) continue; // a file is sometimes entered twice
          if (!was && [...used.keys()].some((u) => u.startsWith(name + '/') || name.startsWith(u + '/'))) continue;
          const files = [...used].filter(([n, kind]) => kind === 'f' && n !== name).map(([n]) => n);
          const r = was ? 9 : rnd(10);
          // every other image without whiteouts: all of its layers take the model-only walk
          if (r === 0 && k > 0 && i % 2) { used.set(name, 'w'); specs.push(file(name.replace(/([^/]+)$/, '.wh.$1'), '')); }
          else if (r === 1 && files.length) { used.set(name, 'h'); specs.push({ name, kind: 'hardlink', linkname: files[0] }); }
          else if (r === 2) { used.set(name, 'd'); specs.push(dir(name)); }
          else { used.set(name, 'f'); specs.push(file(name, 'x'.repeat(1 + rnd(2) * 2))); } // sizes 1 and 3: ties are common
        }
        layers.push(specs);
      }
      const { tree } = await importBytes(dockerArchive({ layers: layers.map((l) => tar(l)) }));
      const fast = diveNumbers(tree);
      expect(fast, JSON.stringify(layers.map((l) => l.map((x) => `${x.kind ?? 'f'}:${x.name}:${x.data?.length ?? ''}`)))).toEqual(diveNumbers(tree, { walkTrees: true }));
      const sizes = fast.inefficientFiles.map((f) => f.sizeBytes);
      if (i % 2 === 0 && new Set(sizes).size < sizes.length) withTies++;
    }
    expect(withTies).toBeGreaterThan(20); // the order among equal sizes was really tested, without whiteouts
  });
});

interface Case { image: string; expected: string }
const peers = join(FIXTURES, 'peers');
const cases: Case[] = [
  ...['edge.docker.tar', 'edge.docker.tar.gz', 'edge.oci.tar', 'edge.oci-zstd.tar'].map((f) => ({ image: join(FIXTURES, 'generated', f), expected: join(FIXTURES, 'generated/edge.expected.tsv') })),
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).map((f) => ({
    image: join(peers, f.replace(/\.expected\.tsv$/, '.tar')), expected: join(peers, 'expected', f),
  })),
];

/** regular files of the merged filesystem, each hardlink group once (its "f" row) */
function finalBytes(expectedTsv: string): number {
  let sum = 0;
  for (const line of readFileSync(expectedTsv, 'utf8').split('\n')) {
    const f = line.split('\t');
    if (f[1] === 'f') sum += Number(f[5]);
  }
  return sum;
}

describe('corrected numbers on every shared fixture, against Python and the expected listing', () => {
  test('there are fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(18));
  test.each(cases)('$image', async ({ image, expected }) => {
    expect(existsSync(image)).toBe(true);
    const res = await load(image);
    const { waste } = analyzeSpace(res.tree);
    const shipped = JSON.parse(execFileSync('python3', [join(import.meta.dirname, '../../helpers/layer-sizes.py'), image], { encoding: 'utf8' })) as number[];
    expect(waste.layers.map((l) => l.shippedBytes)).toEqual(shipped);
    expect(waste.shippedBytes).toBe(shipped.reduce((a, b) => a + b, 0));
    expect(waste.finalBytes).toBe(finalBytes(expected));
    expect(waste.wastedBytes).toBe(waste.shippedBytes - waste.finalBytes);
    expect(waste.efficiency).toBe(waste.shippedBytes ? waste.finalBytes / waste.shippedBytes : 1);
    // the list of superseded files accounts for every wasted byte, per layer too
    expect(waste.files.reduce((a, f) => a + f.size, 0)).toBe(waste.wastedBytes);
    expect(waste.layers.reduce((a, l) => a + l.wastedBytes, 0)).toBe(waste.wastedBytes);
    for (const f of waste.files) expect(f.supersededIn).toBeGreaterThanOrEqual(f.layer);
  });

  test.each(cases)('visibility from versions equals the tree\'s liveness rule: $image', async ({ image }) => {
    const res = await load(image);
    const ft = new FileTree(res.tree);
    const N = res.tree.layerCount;
    for (let n = 1; n < res.tree.nodeCount; n++) {
      for (const v of fileVersions(res.tree, n)) {
        for (let k = v.from; k < v.until; k++) expect(ft.isLive(n, k) && ft.versionAt(n, k) === v.version, `${ft.path(n)} at layer ${k}`).toBe(true);
        if (v.until < N) expect(ft.isLive(n, v.until) && ft.versionAt(n, v.until) === v.version).toBe(false);
      }
    }
  });
});

const dir = (name: string): Spec => ({ name, kind: 'dir' });
const file = (name: string, data: string, extra: Partial<Spec> = {}): Spec => ({ name, data, ...extra });
const space = async (...layers: Spec[][]) => analyzeSpace((await importBytes(dockerArchive({ layers: layers.map((l) => tar(l)) }))).tree).waste;

describe('hidden content: how each superseded version went', () => {
  test.each([
    ['a key added, then deleted', [[dir('root'), dir('root/.ssh'), file('root/.ssh/id_rsa', 'KEY')], [file('root/.ssh/.wh.id_rsa', '')]],
      [{ path: '/root/.ssh/id_rsa', layer: 1, size: 3, supersededIn: 2, how: 'deleted' }]],
    ['a directory whited out takes its files', [[dir('d'), file('d/x', 'xx')], [file('.wh.d', '')]],
      [{ path: '/d/x', layer: 1, size: 2, supersededIn: 2, how: 'deleted' }]],
    ['an .env overwritten', [[file('.env', 'SECRET=1')], [file('.env', 'SECRET=')]],
      [{ path: '/.env', layer: 1, size: 8, supersededIn: 2, how: 'overwritten' }]],
    ['an opaque directory hiding a file', [[dir('o'), file('o/old', 'old')], [dir('o'), file('o/.wh..wh..opq', ''), file('o/new', 'new')]],
      [{ path: '/o/old', layer: 1, size: 3, supersededIn: 2, how: 'opaque' }]],
    ['a chmod copies the file (same size and mtime)', [[file('bin', 'ELF!', { mode: 0o644 })], [file('bin', 'ELF!', { mode: 0o755 })]],
      [{ path: '/bin', layer: 1, size: 4, supersededIn: 2, how: 'metadata' }]],
    ['an edit (new mtime) is not metadata', [[file('f', 'aaaa')], [file('f', 'bbbb', { mtime: 1800000000 })]],
      [{ path: '/f', layer: 1, size: 4, supersededIn: 2, how: 'overwritten' }]],
    ['a file replaced by a directory', [[file('p', 'file')], [dir('p'), file('p/q', 'q')]],
      [{ path: '/p', layer: 1, size: 4, supersededIn: 2, how: 'overwritten' }]],
    ['a directory replaced by a file takes its files', [[dir('p'), file('p/q', 'qq')], [file('p', 'now')]],
      [{ path: '/p/q', layer: 1, size: 2, supersededIn: 2, how: 'overwritten' }]],
    ['a file entry repeated in its own layer: the first copy ships for nothing', [[file('dup', 'first'), file('dup', 'second!')]],
      [{ path: '/dup', layer: 1, size: 5, supersededIn: 1, how: 'overwritten' }]],
    ['a hardlink keeps deleted content visible: no waste', [[file('a', 'data'), { name: 'b', kind: 'hardlink', linkname: 'a' }], [file('.wh.a', '')]], []],
    ['content lost only when the last link goes', [[file('a', 'data'), { name: 'b', kind: 'hardlink', linkname: 'a' }], [file('.wh.a', '')], [file('.wh.b', '')]],
      [{ path: '/a', layer: 1, size: 4, supersededIn: 3, how: 'deleted' }]],
    ['deleted then re-created: both older versions listed', [[file('r', '1')], [file('.wh.r', '')], [file('r', '333')], [file('r', '4444', { mtime: 1800000000 })]],
      [{ path: '/r', layer: 3, size: 3, supersededIn: 4, how: 'overwritten' }, { path: '/r', layer: 1, size: 1, supersededIn: 2, how: 'deleted' }]],
  ])('%s', async (_name, layers, files) => {
    const w = await space(...(layers as Spec[][]));
    expect(w.files).toEqual(files);
    expect(w.wastedBytes).toBe((files as { size: number }[]).reduce((a, f) => a + f.size, 0));
  });

  test('no layers, no files: efficiency is 1', async () => {
    const w = await space([]);
    expect(w).toMatchObject({ shippedBytes: 0, finalBytes: 0, wastedBytes: 0, efficiency: 1, files: [] });
  });
});
