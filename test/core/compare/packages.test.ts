// Package changes from each side's analysis: the sample image's layer 3 removes curl and upgrades
// libssl3; images built here with dpkg and npm metadata; the rules for moved packages.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyzeImage } from '../../../src/core/analysis/analyze.ts';
import type { PackageRecord } from '../../../src/core/analysis/types.ts';
import { Comparer, comparePackages, packagesAsOf } from '../../../src/core/compare/index.ts';
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { ROOT } from '../../helpers/cli.ts';
import { dockerArchive, tar } from '../../helpers/build.ts';
import { importBytes } from '../../helpers/run.ts';

async function analysed(bytes: Uint8Array, name: string) {
  const res = await importBytes(bytes, {}, name);
  const source = { read: async (l: number, o: number, n: number) => new Uint8Array(await res.content[l].slice(o, o + n).arrayBuffer()) };
  const analysis = await analyzeImage(res.tree, source);
  return { res, tree: new FileTree(res.tree), packages: analysis.packages };
}

const short = (c: { ecosystem: string; name: string; change: string; from: string | null; to: string | null }) => `${c.ecosystem} ${c.name} ${c.change} ${c.from ?? '-'} → ${c.to ?? '-'}`;

describe('packages', () => {
  test('public/sample.tar: layer 3 removes curl and upgrades libssl3', async () => {
    const s = await analysed(new Uint8Array(readFileSync(join(ROOT, 'public/sample.tar'))), 'sample.tar');
    const side = (layer: number) => ({ meta: s.res.meta, tree: s.tree, layer, id: 'sample' });
    const c = new Comparer(side(1), side(2)).summary({ a: { records: s.packages }, b: { records: s.packages } });
    expect(c.packages!.map(short)).toEqual(['deb curl removed 7.88.1-10+deb12u5 → -', 'deb libssl3 changed 3.0.11-1~deb12u2 → 3.0.13-1~deb12u1']);
    expect(c.packagesNote).toBeNull();
    // and back
    const back = new Comparer(side(2), side(1)).summary({ a: { records: s.packages }, b: { records: s.packages } });
    expect(back.packages!.map(short)).toEqual(['deb curl added - → 7.88.1-10+deb12u5', 'deb libssl3 changed 3.0.13-1~deb12u1 → 3.0.11-1~deb12u2']);
  });

  test('two images built here: dpkg and npm, added, removed, changed, moved', async () => {
    const status = (pkgs: [string, string][]) => pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`).join('\n');
    const npm = (path: string, name: string, version: string) => ({ name: `${path}/package.json`, data: JSON.stringify({ name, version }) });
    const a = await analysed(dockerArchive({ layers: [tar([
      { name: 'var/lib/dpkg/status', data: status([['curl', '7.88'], ['libssl3', '3.0.11'], ['zlib1g', '1.2.13']]) },
      npm('app/node_modules/left-pad', 'left-pad', '1.0.0'), npm('app/node_modules/moved', 'moved', '2.0.0'),
    ])] }), 'a.tar');
    const b = await analysed(dockerArchive({ layers: [tar([
      { name: 'var/lib/dpkg/status', data: status([['jq', '1.6'], ['libssl3', '3.0.13'], ['zlib1g', '1.2.13']]) },
      npm('app/node_modules/left-pad', 'left-pad', '1.3.0'), npm('srv/node_modules/moved', 'moved', '2.0.0'),
    ])] }), 'b.tar');
    const c = new Comparer({ meta: a.res.meta, tree: a.tree, layer: 0, id: 'a' }, { meta: b.res.meta, tree: b.tree, layer: 0, id: 'b' })
      .summary({ a: { records: a.packages }, b: { records: b.packages } });
    expect(c.packages!.map(short)).toEqual([
      'deb curl removed 7.88 → -', 'deb jq added - → 1.6', 'deb libssl3 changed 3.0.11 → 3.0.13', 'npm left-pad changed 1.0.0 → 1.3.0',
    ]);
  });

  test('a side without packages: no package changes, and a note that says why', async () => {
    const a = await analysed(dockerArchive({ layers: [tar([{ name: 'etc/x', data: 'x' }])] }), 'a.tar');
    const side = (id: string) => ({ meta: a.res.meta, tree: a.tree, layer: 0, id });
    const c = new Comparer(side('a'), side('b')).summary({ a: { records: [] }, b: { missing: 'its analysis has not listed them yet' } });
    expect(c.packages).toBeNull();
    expect(c.packagesNote).toBe('Packages not compared: B (test:latest): its analysis has not listed them yet.');
    expect(new Comparer(side('a'), side('b')).summary().packagesNote).toBe('Packages were not compared.');
  });
});

describe('comparePackages rules', () => {
  const rec = (name: string, version: string, location: string, layer = 1, removedIn: number | null = null): PackageRecord => ({
    ecosystem: 'pypi', name, version, arch: null, license: null, purl: '', locations: [location], layer, removedIn, replacedBy: null,
  });
  test.each<[string, PackageRecord[], PackageRecord[], string[]]>([
    ['same version elsewhere: no change', [rec('a', '1', '/x/a-1.dist-info/METADATA')], [rec('a', '1', '/y/a-1.dist-info/METADATA')], []],
    ['moved with another version: changed', [rec('a', '1', '/x/a-1.dist-info/METADATA')], [rec('a', '2', '/y/a-2.dist-info/METADATA')], ['pypi a changed 1 → 2']],
    ['two places, one upgraded', [rec('a', '1', '/x/a.dist-info/METADATA'), rec('a', '1', '/y/a.dist-info/METADATA')],
      [rec('a', '1', '/x/a.dist-info/METADATA'), rec('a', '3', '/y/a.dist-info/METADATA')], ['pypi a changed 1 → 3']],
    ['two places to one', [rec('a', '1', '/x/a.dist-info/METADATA'), rec('a', '2', '/y/a.dist-info/METADATA')], [rec('a', '3', '/z/a.dist-info/METADATA')],
      ['pypi a removed 1 → -', 'pypi a removed 2 → -', 'pypi a added - → 3']],
  ])('%s', (_n, a, b, want) => {
    expect(comparePackages(a, b).map(short)).toEqual(want);
  });

  test('as of a layer: introduced at or before it, not yet removed', () => {
    const rs = [rec('a', '1', '/a', 1, 3), rec('b', '1', '/b', 2, null), rec('c', '1', '/c', 1, 2)];
    expect(packagesAsOf(rs, 1).map((r) => r.name)).toEqual(['a', 'c']);
    expect(packagesAsOf(rs, 2).map((r) => r.name)).toEqual(['a', 'b']);
    expect(packagesAsOf(rs, 3).map((r) => r.name)).toEqual(['b']);
  });
});
