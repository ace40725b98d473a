// Pure helpers of the Analysis view: package scopes, search and counts; the treemap layout and
// its hit-testing; layer colours.
import { describe, expect, test } from 'vitest';
import { countPackages, filterPackages, inScope, type PackageScope } from '../../src/app/lib/packages.ts';
import { hitTest, layerColors, layoutTreemap, treemapData } from '../../src/app/lib/treemap.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { buildTree, del, file } from '../core/tree/tree-builder.ts';
import { WEBAPP_ANALYSIS, WEBAPP_LAYERS } from './analysis-image.ts';

const pkgs = WEBAPP_ANALYSIS.packages;
const names = (list: typeof pkgs) => list.map((p) => `${p.name}@${p.version}`);

describe('packages', () => {
  test.each([
    ['squashed', 11], ['all-layers', 14], ['removed', 3], ['upgraded', 2],
  ] as [PackageScope, number][])('scope %s has %i packages', (scope, n) => {
    expect(pkgs.filter((p) => inScope(p, scope))).toHaveLength(n);
  });
  test('filters combine ecosystem, scope and search', () => {
    expect(names(filterPackages(pkgs, { ecosystem: 'pypi', scope: 'squashed', search: '' }))).toEqual(['Flask@3.0.0', 'requests@2.32.3']);
    expect(names(filterPackages(pkgs, { ecosystem: 'pypi', scope: 'removed', search: '' }))).toEqual(['requests@2.31.0', 'setuptools@68.0.0']);
    expect(names(filterPackages(pkgs, { ecosystem: 'all', scope: 'upgraded', search: '' }))).toEqual(['libssl3@3.0.11-1~deb12u2', 'requests@2.31.0']);
    // search: name, version, licence, purl or location, any case
    expect(names(filterPackages(pkgs, { ecosystem: 'all', scope: 'all-layers', search: 'FLASK' }))).toEqual(['Flask@3.0.0']);
    expect(names(filterPackages(pkgs, { ecosystem: 'all', scope: 'squashed', search: 'bsd-3' }))).toEqual(['Flask@3.0.0', 'stdlib@go1.21.5']);
    expect(filterPackages(pkgs, { ecosystem: 'all', scope: 'squashed', search: '/usr/local/bin/gosu' })).toHaveLength(2);
    expect(filterPackages(pkgs, { ecosystem: 'all', scope: 'squashed', search: '  ' })).toHaveLength(11);
  });
  test('counts per ecosystem in the scope, and per scope in the ecosystem', () => {
    const all = countPackages(pkgs, { ecosystem: 'all', scope: 'squashed' });
    expect(Object.fromEntries(all.byEcosystem)).toEqual({ deb: 7, pypi: 2, golang: 2 });
    expect(all.byScope).toEqual({ squashed: 11, 'all-layers': 14, removed: 3, upgraded: 2 });
    const py = countPackages(pkgs, { ecosystem: 'pypi', scope: 'removed' });
    expect(Object.fromEntries(py.byEcosystem)).toEqual({ deb: 1, pypi: 2 });
    expect(py.byScope).toEqual({ squashed: 2, 'all-layers': 4, removed: 2, upgraded: 1 });
  });
});

describe('treemap layout', () => {
  const ft = new FileTree(buildTree(WEBAPP_LAYERS));
  const last = ft.layerCount - 1;
  const at = (p: string) => ft.lookup(p);

  test('the files of the merged filesystem, sized and tagged with their layer, in the given box', () => {
    const l = layoutTreemap(ft, last, { width: 800, height: 400 });
    expect(l.bytes).toBe(ft.dirSize(0, last) - 0);
    expect(l.files).toBe(22);
    expect(l.layers).toEqual([0, 1, 2, 3, 4]);
    const model = l.rects.find((r) => r.data.node === at('/app/data/model.bin'))!;
    expect(model.data.layer).toBe(3); // re-written (chmod) in layer 4
    expect(model.value).toBe(24_000_000);
    for (const r of l.rects) {
      expect(r.x0).toBeGreaterThanOrEqual(0);
      expect(r.x1).toBeLessThanOrEqual(800);
      expect(r.y1).toBeLessThanOrEqual(400);
    }
    // area follows size (squarified, a little lost to padding)
    const area = (model.x1 - model.x0) * (model.y1 - model.y0);
    expect(area / (800 * 400)).toBeGreaterThan(0.45);
    expect(area / (800 * 400)).toBeLessThan(24 / 42.3);
  });

  test('hit-testing finds the innermost rectangle; outside finds nothing', () => {
    const l = layoutTreemap(ft, last, { width: 800, height: 400 });
    for (const p of ['/app/data/model.bin', '/usr/bin/curl', '/bin/bash']) {
      const r = l.rects.find((x) => x.data.node === at(p))!;
      expect(ft.path(hitTest(l, (r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2)!.data.node)).toBe(p);
    }
    const usr = l.rects.find((x) => x.data.node === at('/usr'))!;
    expect(hitTest(l, usr.x0 + 5, usr.y0 + 3)?.data.node).toBe(at('/usr')); // its label band
    expect(hitTest(l, 900, 10)).toBeNull();
  });

  test('zoom into a directory, only this layer\'s changes, an earlier layer', () => {
    const usr = layoutTreemap(ft, last, { width: 400, height: 300, root: at('/usr') });
    expect(usr.root?.data.node).toBe(at('/usr'));
    expect(usr.bytes).toBe(ft.dirSize(at('/usr'), last));
    const changes = layoutTreemap(ft, last, { width: 400, height: 300, changesOnly: true });
    expect(changes.rects.filter((r) => r.data.kids === null).map((r) => ft.path(r.data.node)).sort()).toEqual([
      '/root/.cache/pip/http/a/b/3f9a0c77e1', '/usr/local/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA',
      '/usr/local/lib/python3.11/site-packages/requests/__init__.py',
    ]);
    expect(changes.layers).toEqual([4]);
    // layer 2 still has the apt lists; at layer 4 they are gone
    const two = layoutTreemap(ft, 1, { width: 400, height: 300 });
    expect(two.rects.some((r) => ft.path(r.data.node).startsWith('/var/lib/apt/lists/'))).toBe(true);
    expect(layoutTreemap(ft, 3, { width: 400, height: 300 }).rects.some((r) => ft.path(r.data.node).startsWith('/var/lib/apt/lists/'))).toBe(false);
  });

  test('empty: nothing with content, a zero-sized box, a directory that does not exist at the layer', () => {
    const t = new FileTree(buildTree([[file('/empty')], [del('/empty'), file('/x', { size: 5 })]]));
    expect(treemapData(t, 0)).toBeNull();
    expect(layoutTreemap(t, 0, { width: 100, height: 100 }).root).toBeNull();
    expect(layoutTreemap(t, 1, { width: 0, height: 100 }).rects).toEqual([]);
    expect(layoutTreemap(t, 1, { width: 100, height: 100 }).files).toBe(1);
    expect(layoutTreemap(ft, 0, { width: 100, height: 100, root: at('/app') }).root).toBeNull();
  });

  test('layer colours differ and carry a readable text colour', () => {
    for (const dark of [false, true]) {
      const c = layerColors(30, dark);
      expect(new Set(c.map((x) => x.fill)).size).toBe(30);
      for (const x of c) {
        expect(['#1f2328', '#ffffff']).toContain(x.text);
        // labels on the canvas are 11 px: near the 4.5 of body text (the tooltip and the list under the canvas carry the same names)
        expect(contrastRgb(x.fill, x.text), `${x.text} on ${x.fill}`).toBeGreaterThanOrEqual(4);
      }
    }
  });
});

function contrastRgb(a: string, b: string): number {
  const lum = (c: string) => {
    const v = c.startsWith('#') ? [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) : c.match(/\d+/g)!.map(Number);
    const [r, g, bl] = v.map((x) => (x / 255 <= 0.03928 ? x / 255 / 12.92 : ((x / 255 + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
