import { describe, expect, test } from 'vitest';
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { DiffType as D, FileType } from '../../../src/core/model.ts';
import { buildTree, chr, del, dir, fifo, file, hardlink, symlink } from './tree-builder.ts';

// Layer 0: a small base. Layer 1: deletes, type changes, chmod. Layer 2: re-creations, hardlinks.
const base = () => new FileTree(buildTree([
  [
    dir('/'), dir('/etc'), file('/etc/passwd', { content: 'root:x:0:0\n' }), file('/etc/app.conf', { size: 10 }),
    dir('/bin'), file('/bin/busybox', { size: 1000, mode: 0o755 }), hardlink('/bin/ls', '/bin/busybox'),
    symlink('/bin/sh', 'busybox'), symlink('/bin/ash', '/bin/busybox'),
    dir('/usr/bin'), symlink('/usr/bin/env', '../../bin/busybox'),
    dir('/data/old'), file('/data/old/a.txt', { size: 2 }), dir('/data/old/sub'), file('/data/old/sub/b.txt', { size: 3 }),
    file('/data/del_me', { size: 5 }), file('/data/to_dir', { size: 7 }), dir('/data/to_file'), file('/data/to_file/x', { size: 1 }),
    file('/data/zeta'), file('/data/Alpha'), file('/data/beta'),
    chr('/dev/null', [1, 3]), fifo('/data/fifo'),
    file('/data/xa', { xattrs: { 'user.a': 'yes' } }),
  ],
  [
    del('/data/del_me'), del('/data/old'),
    dir('/data/to_dir'), file('/data/to_dir/nested', { size: 4 }),
    file('/data/to_file', { size: 11 }),
    file('/bin/busybox', { size: 1000, mode: 0o700, diff: D.Modified }),
    file('/etc/passwd', { content: 'root:x:0:0\napp:x:1:1\n' }),
  ],
  [
    file('/data/del_me', { size: 6 }), dir('/data/old'), file('/data/old/new.txt', { size: 1 }),
    file('/data/hl_a', { size: 9 }), hardlink('/data/hl_b', '/data/hl_a'), hardlink('/data/sub/hl_c', '/data/hl_a'),
    del('/bin/ls'),
  ],
]));

const ft = base();
const n = (p: string) => { const x = ft.lookup(p); expect(x, p).toBeGreaterThanOrEqual(0); return x; };
const names = (nodes: ArrayLike<number>) => Array.from(nodes, (x) => ft.name(x));

describe('paths and lookup', () => {
  test.each([
    ['/', '/'], ['/etc/passwd', '/etc/passwd'], ['etc/passwd', '/etc/passwd'], ['//etc/./passwd', '/etc/passwd'],
    ['/../../etc/passwd', '/etc/passwd'], ['/etc/../bin/sh', '/bin/sh'],
  ])('lookup(%j) → %s', (input, want) => {
    expect(ft.path(ft.lookup(input))).toBe(want);
  });
  test('missing paths', () => {
    expect(ft.lookup('/nope')).toBe(-1);
    expect(ft.lookup('/etc/passwd/x')).toBe(-1);
  });
  test('children are sorted by name bytes (uppercase first)', () => {
    expect(names(ft.children(n('/data')))).toEqual(
      ['Alpha', 'beta', 'del_me', 'fifo', 'hl_a', 'hl_b', 'old', 'sub', 'to_dir', 'to_file', 'xa', 'zeta']);
  });
  test('name and path of root', () => {
    expect(ft.path(0)).toBe('/');
    expect(ft.depth(n('/data/old/sub/b.txt'))).toBe(4);
  });
});

describe('versions and info', () => {
  test('versionAt', () => {
    const p = n('/etc/passwd');
    expect(ft.versionAt(p, 0)).toBeGreaterThanOrEqual(0);
    expect(ft.versionAt(p, 1)).toBe(ft.versionAt(p, 0) + 1);
    expect(ft.versionAt(p, 2)).toBe(ft.versionAt(p, 1));
    expect(ft.versionAt(n('/data/hl_a'), 1)).toBe(-1);
  });
  test.each([
    ['/etc/passwd', 0, D.Added], ['/etc/passwd', 1, D.Modified], ['/etc/passwd', 2, D.Unmodified],
    ['/data/del_me', 2, D.Added], ['/data/to_dir', 1, D.Modified], ['/etc/app.conf', 2, D.Unmodified],
  ])('info(%s, %i).diff = %i', (p, k, diff) => {
    expect(ft.info(n(p), k)?.diff).toBe(diff);
  });
  test('deleted and not-yet-created paths have no info', () => {
    expect(ft.info(n('/data/del_me'), 1)).toBeNull();
    expect(ft.info(n('/data/hl_a'), 1)).toBeNull();
    expect(ft.info(n('/data/old/a.txt'), 1)).toBeNull();
  });
  test('decoded fields', () => {
    const bb = ft.info(n('/bin/busybox'), 1)!;
    expect(bb).toMatchObject({ path: '/bin/busybox', name: 'busybox', type: FileType.File, mode: 0o700, size: 1000, layer: 1 });
    expect(bb.content).toEqual({ layer: 1, offset: expect.any(Number), size: 1000 });
    expect(ft.info(n('/bin/sh'), 0)).toMatchObject({ type: FileType.Symlink, linkTarget: 'busybox' });
    expect(ft.info(n('/dev/null'), 0)).toMatchObject({ type: FileType.Char, devMajor: 1, devMinor: 3 });
    expect(ft.info(n('/data/fifo'), 0)?.type).toBe(FileType.Fifo);
    expect(new TextDecoder().decode(ft.info(n('/data/xa'), 0)!.xattrs!['user.a'])).toBe('yes');
    expect(ft.info(0, 0)).toMatchObject({ path: '/', type: FileType.Dir });
  });
  test('type changes keep the node, change the type', () => {
    expect(ft.info(n('/data/to_dir'), 0)?.type).toBe(FileType.File);
    expect(ft.info(n('/data/to_dir'), 1)?.type).toBe(FileType.Dir);
    expect(ft.info(n('/data/to_file'), 1)?.type).toBe(FileType.File);
  });
  test('children of a directory turned file do not survive without explicit deletions', () => {
    expect(ft.isLive(n('/data/to_file/x'), 0)).toBe(true);
    expect(ft.isLive(n('/data/to_file/x'), 1)).toBe(false);
  });
  test('rowInfo shows a deletion as the previous state marked Deleted', () => {
    const r = ft.rowInfo(n('/data/del_me'), 1)!;
    expect(r).toMatchObject({ diff: D.Deleted, size: 5, layer: 1 });
    expect(ft.rowInfo(n('/data/old/sub/b.txt'), 1)?.diff).toBe(D.Deleted);
    expect(ft.rowInfo(n('/data/old/sub/b.txt'), 2)).toBeNull();
  });
});

describe('listDir', () => {
  test.each([
    [0, 'all', ['Alpha', 'beta', 'del_me', 'fifo', 'old', 'to_dir', 'to_file', 'xa', 'zeta']],
    [1, 'all', ['Alpha', 'beta', 'fifo', 'to_dir', 'to_file', 'xa', 'zeta']],
    [2, 'all', ['Alpha', 'beta', 'del_me', 'fifo', 'hl_a', 'hl_b', 'old', 'sub', 'to_dir', 'to_file', 'xa', 'zeta']],
    [1, 'changes', ['del_me', 'old', 'to_dir', 'to_file']],
    [2, 'changes', ['del_me', 'hl_a', 'hl_b', 'old', 'sub']],
  ] as const)('/data at layer %i, %s', (k, mode, want) => {
    expect(names(ft.listDir(n('/data'), k, mode))).toEqual(want);
  });
  test('a recreated directory does not bring back its old children', () => {
    expect(names(ft.listDir(n('/data/old'), 2, 'all'))).toEqual(['new.txt']);
    expect(ft.isLive(n('/data/old/a.txt'), 2)).toBe(false);
  });
  test('deleted directories list their former contents as deleted in changes mode', () => {
    expect(names(ft.listDir(n('/data/old'), 1, 'changes'))).toEqual(['a.txt', 'sub']);
    expect(names(ft.listDir(n('/data/old/sub'), 1, 'changes'))).toEqual(['b.txt']);
    expect(ft.diffAt(n('/data/old/sub/b.txt'), 1)).toBe(D.Deleted);
    expect(ft.listDir(n('/data/old'), 1, 'all')).toEqual([]);
  });
  test('root in changes mode', () => {
    expect(names(ft.listDir(0, 1, 'changes'))).toEqual(['bin', 'data', 'etc']);
    expect(names(ft.listDir(0, 2, 'changes'))).toEqual(['bin', 'data']);
  });
});

describe('changes and counts', () => {
  test('layer 1', () => {
    const c = ft.changes(1);
    expect({ a: c.added, m: c.modified, d: c.deleted }).toEqual({ a: 1, m: 4, d: 2 });
    expect(c.entries.map((e) => [ft.path(e.node), e.diff])).toEqual([
      ['/bin/busybox', D.Modified], ['/data/del_me', D.Deleted], ['/data/old', D.Deleted],
      ['/data/to_dir', D.Modified], ['/data/to_dir/nested', D.Added], ['/data/to_file', D.Modified],
      ['/etc/passwd', D.Modified],
    ]);
  });
  test('layer 0 adds everything', () => {
    const c = ft.changes(0);
    expect(c.added).toBe(ft.countEntries(0) + 1); // + the root's own entry
    expect(c.deleted).toBe(0);
  });
  test('countEntries', () => {
    expect(ft.countEntries(0)).toBe(27);
    expect(ft.countEntries(1)).toBe(27 - 1 - 4 - 1 + 1); // del_me, old/*, to_file/x; + nested
  });
});

describe('sizes, hardlinks, history', () => {
  test('dirSize aggregates live files', () => {
    expect(ft.dirSize(n('/data/old'), 0)).toBe(5);
    expect(ft.dirSize(n('/data'), 0)).toBe(2 + 3 + 5 + 7 + 1);
    expect(ft.dirSize(n('/data'), 1)).toBe(4 + 11);
    expect(ft.dirSize(n('/data/old'), 1)).toBe(0);
    expect(ft.dirSize(0, 0)).toBe(ft.dirSize(n('/etc'), 0) + ft.dirSize(n('/bin'), 0) + ft.dirSize(n('/data'), 0));
  });
  test('row type and size (deleted rows show what was deleted)', () => {
    expect(ft.rowType(n('/data/old'), 1)).toBe(FileType.Dir);
    expect(ft.rowSize(n('/data/old'), 1)).toBe(5);
    expect(ft.rowSize(n('/data/to_file'), 1)).toBe(11);
    expect(ft.rowType(n('/data/old/a.txt'), 2)).toBe(-1);
    expect(ft.rowLayer(n('/data/del_me'), 1)).toBe(0);
  });
  test('hardlink groups', () => {
    expect(ft.hardlinkGroup(n('/bin/busybox'), 0).map((x) => ft.path(x))).toEqual(['/bin/ls']);
    // busybox got a new inode in layer 1, so /bin/ls is no longer linked to it
    expect(ft.hardlinkGroup(n('/bin/busybox'), 1)).toEqual([]);
    expect(ft.hardlinkGroup(n('/data/hl_b'), 2).map((x) => ft.path(x)).sort()).toEqual(['/data/hl_a', '/data/sub/hl_c']);
    expect(ft.hardlinkGroup(n('/etc/passwd'), 0)).toEqual([]);
  });
  test('history', () => {
    expect(ft.history(n('/data/del_me'))).toEqual([{ layer: 0, diff: D.Added }, { layer: 1, diff: D.Deleted }, { layer: 2, diff: D.Added }]);
    expect(ft.history(n('/data/old/sub/b.txt'))).toEqual([{ layer: 0, diff: D.Added }, { layer: 1, diff: D.Deleted, implicit: true }]);
    expect(ft.history(n('/etc/app.conf'))).toEqual([{ layer: 0, diff: D.Added }]);
  });
});

describe('resolveSymlink', () => {
  const loops = new FileTree(buildTree([[
    symlink('/a', 'b'), symlink('/b', 'a'), symlink('/self', 'self'),
    symlink('/up', '../../../../etc/hosts'), file('/etc/hosts'), symlink('/abs_up', '/../..'),
    dir('/real/dir'), file('/real/dir/f'), symlink('/via', 'real'), symlink('/real/back', '../via/dir/f'),
    symlink('/x/y', '/via/dir'), symlink('/x/z', 'y/f'), symlink('/dangling', '/nope'), symlink('/deep', 'x/z/../f'),
    symlink('/empty', ''), symlink('/chain1', 'chain2'), symlink('/chain2', 'real/dir/f'),
  ]]));
  const r = (p: string) => { const x = loops.resolveSymlink(loops.lookup(p), 0); return x < 0 ? null : loops.path(x); };
  test.each([
    ['/a', null], ['/self', null], ['/up', '/etc/hosts'], ['/abs_up', '/'], ['/real/back', '/real/dir/f'],
    ['/x/z', '/real/dir/f'], ['/dangling', null], ['/deep', null], ['/empty', null], ['/chain1', '/real/dir/f'],
    ['/real/dir/f', '/real/dir/f'], ['/via', '/real'],
  ])('%s → %s', (p, want) => {
    expect(r(p)).toBe(want);
  });
  test('relative, absolute and ../.. targets in the image', () => {
    expect(ft.path(ft.resolveSymlink(n('/bin/sh'), 0))).toBe('/bin/busybox');
    expect(ft.path(ft.resolveSymlink(n('/bin/ash'), 0))).toBe('/bin/busybox');
    expect(ft.path(ft.resolveSymlink(n('/usr/bin/env'), 0))).toBe('/bin/busybox');
  });
  test('a long chain stops after 40 hops', () => {
    const ops = Array.from({ length: 45 }, (_, i) => symlink(`/l${i}`, i === 44 ? '/target' : `l${i + 1}`));
    const chain = new FileTree(buildTree([[...ops, file('/target')]]));
    expect(chain.resolveSymlink(chain.lookup('/l0'), 0)).toBe(-1);
    expect(chain.path(chain.resolveSymlink(chain.lookup('/l10'), 0))).toBe('/target');
  });
});

describe('search', () => {
  test.each([
    ['*.conf', ['/etc/app.conf']],
    ['passwd', ['/etc/passwd']],
    ['PASSWD', ['/etc/passwd']],
    ['/bin/?s', ['/bin/ls']],
    ['/data/**', ['/data/Alpha', '/data/beta', '/data/del_me', '/data/fifo', '/data/old', '/data/old/a.txt', '/data/old/sub', '/data/old/sub/b.txt', '/data/to_dir', '/data/to_file', '/data/to_file/x', '/data/xa', '/data/zeta']],
    ['**/b.txt', ['/data/old/sub/b.txt']],
    ['*.[tc]*', ['/data/old/a.txt', '/data/old/sub/b.txt', '/etc/app.conf']],
    ['', []],
  ])('%s at layer 0', (pattern, want) => {
    expect(ft.search(pattern, 0).nodes.map((x) => ft.path(x))).toEqual(want);
  });
  test('only paths that exist at k', () => {
    expect(ft.search('old', 1).nodes).toEqual([]);
    expect(ft.search('*.txt', 2).nodes.map((x) => ft.path(x))).toEqual(['/data/old/new.txt']);
  });
  test('includeDeleted also finds paths deleted at k', () => {
    expect(ft.search('*.txt', 1).nodes).toEqual([]);
    expect(ft.search('*.txt', 1, { includeDeleted: true }).nodes.map((x) => ft.path(x))).toEqual(['/data/old/a.txt', '/data/old/sub/b.txt']);
  });
  test('results are capped', () => {
    const r = ft.search('/**', 0, { limit: 3 });
    expect(r.nodes.length).toBe(3);
    expect(r.truncated).toBe(true);
  });
});

describe('liveness', () => {
  test('the ancestor walk (one-off questions) agrees with the per-layer bitset', () => {
    for (let k = 0; k < 3; k++) {
      const walk = base(); // nothing cached: isLive walks
      const live = ft.liveAt(k);
      for (let x = 0; x < ft.nodeCount; x++) expect(walk.isLive(x, k), `${ft.path(x)} @${k}`).toBe(live[x] === 1);
    }
  });
});

describe('edge shapes', () => {
  test('an empty tree (root only)', () => {
    const t = new FileTree(buildTree([[]]));
    expect(t.listDir(0, 0, 'all')).toEqual([]);
    expect(t.countEntries(0)).toBe(0);
    expect(t.info(0, 0)?.type).toBe(FileType.Dir);
  });
  test('unsorted node order is sorted once', () => {
    const t = new FileTree(buildTree([[file('/c'), file('/a'), file('/b'), file('/é'), file('/B')]]));
    expect(Array.from(t.listDir(0, 0, 'all'), (x) => t.name(x))).toEqual(['B', 'a', 'b', 'c', 'é']);
    expect(t.path(t.lookup('/é'))).toBe('/é');
  });
});

describe('performance', () => {
  test('100k nodes: construct and list the root quickly', () => {
    const ops = [dir('/')];
    for (let d = 0; d < 100; d++) {
      ops.push(dir(`/d${d}`));
      for (let f = 0; f < 999; f++) ops.push(file(`/d${d}/f${(f * 7919) % 999}`, { size: f }));
    }
    const big = buildTree([ops]);
    const t0 = performance.now();
    const t = new FileTree(big);
    const root = t.listDir(0, 0, 'all');
    const t1 = performance.now();
    const all = t.listDir(t.lookup('/d5'), 0, 'all');
    const size = t.dirSize(0, 0);
    const found = t.search('*99', 0);
    const t2 = performance.now();
    console.log(`FileTree 100k: construct+list root ${(t1 - t0).toFixed(1)} ms; list dir, sizes, search ${(t2 - t1).toFixed(1)} ms`);
    expect(big.nodeCount).toBeGreaterThan(100_000);
    expect(root.length).toBe(100);
    expect(all.length).toBe(999);
    expect(size).toBe(100 * (998 * 999) / 2);
    expect(found.nodes.length).toBeGreaterThan(0);
    expect(t1 - t0).toBeLessThan(1000);
  });
});
