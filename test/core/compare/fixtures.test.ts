// Every shared fixture with an expected listing: a comparison equals the one derived independently
// from the listings — an image against itself (one image, and two loads of it), each layer k against
// the last (the listing as of k: `strata flatten --layer k` listed by ../shared/tools/tar-listing.py),
// and every fixture against every other. Content is hashed only where sizes are equal and sources differ.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compareImages, packComparison, unpackComparison, type CompareInput } from '../../../src/core/compare/index.ts';
import type { ImportResult } from '../../../src/core/import.ts';
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { FIXTURES, SHARED, strata } from '../../helpers/cli.ts';
import { importBytes } from '../../helpers/run.ts';
import { blobContent, comparisonLines, deriveChanges, listingSizes, readListing, type Listing } from './listing.ts';

const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');
const out = mkdtempSync(join(tmpdir(), 'strata-cmp-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Fx { name: string; image: string; expected: string; extra?: string }
const fixtures: Fx[] = [
  { name: 'edge', image: join(gen, 'edge.oci.tar'), expected: join(gen, 'edge.expected.tsv'), extra: join(gen, 'edge.expected-extra.tsv') },
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).map((f) => {
    const name = f.replace(/\.expected\.tsv$/, '');
    const extra = join(peers, 'expected', `${name}.expected-extra.tsv`);
    return { name, image: join(peers, `${name}.tar`), expected: join(peers, 'expected', f), extra: existsSync(extra) ? extra : undefined };
  }),
];

interface Loaded { fx: Fx; res: ImportResult; tree: FileTree; listing: Listing }
const loaded = new Map<string, Loaded>();

beforeAll(async () => {
  for (const fx of fixtures) {
    const res = await importBytes(new Uint8Array(readFileSync(fx.image)), {}, fx.name);
    loaded.set(fx.name, { fx, res, tree: new FileTree(res.tree), listing: readListing(fx.expected, fx.extra) });
  }
}, 300_000);

const side = (l: Loaded, layer = l.res.meta.layers.length - 1, id = l.fx.name): CompareInput => ({ meta: l.res.meta, tree: l.tree, layer, id });

async function run(x: Loaded, y: Loaded, a: CompareInput, b: CompareInput, reads?: string[]) {
  return compareImages(a, b, blobContent(x.res.content, y.res.content, reads));
}

/** The listing as of 1-based layer k: our flatten, listed by the shared Python tool. */
async function listingAt(fx: Fx, k: number): Promise<Listing> {
  const tar = join(out, `${fx.name}-${k}.tar`), tsv = join(out, `${fx.name}-${k}.tsv`), extra = join(out, `${fx.name}-${k}-extra.tsv`);
  const r = await strata(['flatten', fx.image, '--layer', String(k), '-o', tar]);
  expect(r.stderr).toBe('');
  execFileSync('python3', [join(SHARED, 'tools/tar-listing.py'), tar, tsv, extra]);
  return readListing(tsv, extra);
}

function expectSizes(c: Awaited<ReturnType<typeof run>>, a: Listing, b: Listing) {
  const sa = listingSizes(a), sb = listingSizes(b);
  expect([c.sizeA, c.sizeB]).toEqual([sa.total, sb.total]);
  const want = [...new Set([...sa.top.keys(), ...sb.top.keys()])].map((p) => ({ path: p, a: sa.top.get(p) ?? 0, b: sb.top.get(p) ?? 0 }))
    .filter((r) => r.a || r.b).sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
  expect(c.topLevel).toEqual(want);
}

let layered = 0;

describe('comparisons equal the ones derived from the expected listings', () => {
  test('there are fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(15));
  afterAll(() => expect(layered).toBeGreaterThanOrEqual(6));

  test.each(fixtures.map((f) => f.name))('%s against itself is empty (one image, and two loads of it)', async (name) => {
    const l = loaded.get(name)!;
    const reads: string[] = [];
    const same = await run(l, l, side(l), side(l), reads);
    expect(same.files).toEqual([]);
    expect(same.layers.shared).toBe(l.res.meta.layers.length);
    const again = await importBytes(new Uint8Array(readFileSync(l.fx.image)), {}, name);
    const other: Loaded = { ...l, res: again, tree: new FileTree(again.tree) };
    const twice = await run(l, other, side(l), side(other, undefined, `${name} (again)`), reads);
    expect(twice.files).toEqual([]);
    expect(twice.config).toEqual([]);
    expect(twice.complete).toBe(true);
    // every layer has a diff_id, so every file's content is known equal without reading it
    expect(l.res.meta.layers.every((x) => x.diffId)).toBe(true);
    expect(twice.layers.shared).toBe(l.res.meta.layers.length);
    expect(reads).toEqual([]);
    expectSizes(same, l.listing, l.listing);
    expect(unpackComparison(structuredClone(packComparison(same)))).toEqual(same);
  });

  test.each(fixtures.map((f) => f.name))('%s as of each layer k against its last layer', async (name) => {
    const l = loaded.get(name)!;
    const n = l.res.meta.layers.length;
    layered += n > 1 ? 1 : 0;
    for (let k = 1; k < n; k++) {
      const at = await listingAt(l.fx, k);
      const c = await run(l, l, side(l, k - 1), side(l));
      expect(comparisonLines(c), `layer ${k} vs ${n}`).toEqual(deriveChanges(at, l.listing));
      expectSizes(c, at, l.listing);
      // and the other way round
      const r = await run(l, l, side(l), side(l, k - 1));
      expect(comparisonLines(r), `layer ${n} vs ${k}`).toEqual(deriveChanges(l.listing, at));
      expect(c.layers).toEqual({ layersA: k, layersB: n, shared: k, newInB: Array.from({ length: n - k }, (_, i) => k + 1 + i) });
    }
  });

  test.each(fixtures.map((f) => f.name))('%s against every other fixture', async (name) => {
    const x = loaded.get(name)!;
    for (const y of loaded.values()) {
      if (y === x) continue;
      const c = await run(x, y, side(x), side(y));
      expect(comparisonLines(c), `${name} vs ${y.fx.name}`).toEqual(deriveChanges(x.listing, y.listing));
      expectSizes(c, x.listing, y.listing);
      expect(c.complete).toBe(true);
      expect(c.counts.pending).toBe(0);
      // as it crosses threads: columns, cloned, and back
      expect(unpackComparison(structuredClone(packComparison(c)))).toEqual(c);
    }
  });
});
