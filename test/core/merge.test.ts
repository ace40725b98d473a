// Changeset semantics (OCI image-spec layer.md), each case a tiny image built in memory.
import { describe, expect, test } from 'vitest';
import { dockerArchive, tar, type Spec } from '../helpers/build.ts';
import { changes, importBytes, listing } from '../helpers/run.ts';

const dir = (name: string, extra: Partial<Spec> = {}): Spec => ({ name, kind: 'dir', ...extra });
const file = (name: string, data = name, extra: Partial<Spec> = {}): Spec => ({ name, data, ...extra });
const img = (...layers: Spec[][]) => dockerArchive({ layers: layers.map((l) => tar(l)) });

describe('whiteouts', () => {
  test.each([
    ['file whiteout hides a lower file', [[file('a'), file('b')], [file('.wh.a')]], ['/b f 0644 0:0 "b"']],
    ['dir whiteout hides the subtree', [[dir('d'), file('d/x'), dir('d/s'), file('d/s/y')], [file('.wh.d')]], []],
    ['whiteout never hides its own layer (entry first)', [[file('a', 'old')], [file('a', 'new'), file('.wh.a')]], ['/a f 0644 0:0 "new"']],
    ['whiteout never hides its own layer (whiteout first)', [[file('a', 'old')], [file('.wh.a'), file('a', 'new')]], ['/a f 0644 0:0 "new"']],
    ['whiteout of a missing path is a no-op', [[file('a')], [file('.wh.nothing'), file('dir/.wh.x')]], ['/a f 0644 0:0 "a"']],
    ['whiteout below a path that is now a file', [[dir('d'), file('d/x')], [file('d', 'now a file'), file('d/.wh.x')]], ['/d f 0644 0:0 "now a file"']],
    ['whiteout below a symlink is not followed', [[dir('real'), file('real/x'), { name: 'ln', kind: 'symlink', linkname: 'real' }], [file('ln/.wh.x')]],
      ['/ln l 0777 0:0 -> real', '/real d 0755 0:0', '/real/x f 0644 0:0 "real/x"']],
    ['./ prefix and mode 0555 on whiteouts', [[file('./foo.txt'), file('./bar')], [file('./.wh.foo.txt', '', { mode: 0o555 })]], ['/bar f 0644 0:0 "./bar"']],
    ['re-create after delete', [[file('a', '1')], [file('.wh.a')], [file('a', '3')]], ['/a f 0644 0:0 "3"']],
  ])('%s', async (_name, layers, want) => {
    expect(await listing(await importBytes(img(...(layers as Spec[][]))))).toEqual(want);
  });

  test('opaque dir hides lower children wherever the marker sits in the tar', async () => {
    for (const order of ['before', 'after']) {
      const l2 = [dir('o'), file('o/new')];
      if (order === 'before') l2.splice(1, 0, file('o/.wh..wh..opq', '')); else l2.push(file('o/.wh..wh..opq', ''));
      const res = await importBytes(img([dir('o'), file('o/old'), dir('o/sub'), file('o/sub/deep')], l2));
      expect(await listing(res)).toEqual(['/o d 0755 0:0', '/o/new f 0644 0:0 "o/new"']);
      expect(changes(res, 1)).toEqual(['Added: /o/new', 'Deleted: /o/old', 'Deleted: /o/sub', 'Deleted: /o/sub/deep', 'Modified: /o']);
    }
  });

  test.each(['.wh.', 'd/.wh.', '.wh..', 'd/.wh..'])('bare whiteout %s is an error naming layer and entry', async (name) => {
    await expect(importBytes(img([file('x')], [file(name, '')]))).rejects.toMatchObject({
      code: 'BAD_WHITEOUT', message: expect.stringMatching(new RegExp(`layer 2 .*"${name.replace(/\./g, '\\.')}"`)),
    });
  });

  test('aufs metadata entries are not content', async () => {
    expect(await listing(await importBytes(img([file('a'), file('.wh..wh.plnk/1.2', ''), dir('.wh..wh.aufs')])))).toEqual(['/a f 0644 0:0 "a"']);
  });
});

describe('replacement', () => {
  test.each([
    ['dir over dir keeps children, takes attributes', [[dir('d'), file('d/x')], [dir('d', { mode: 0o700, uid: 101, gid: 101 })]],
      ['/d d 0700 101:101', '/d/x f 0644 0:0 "d/x"']],
    ['file over dir drops the subtree', [[dir('d'), file('d/x')], [file('d', 'f')]], ['/d f 0644 0:0 "f"']],
    ['dir over file', [[file('d', 'f')], [dir('d'), file('d/n')]], ['/d d 0755 0:0', '/d/n f 0644 0:0 "d/n"']],
    ['symlink over dir', [[dir('d'), file('d/x')], [{ name: 'd', kind: 'symlink', linkname: '/etc' }]], ['/d l 0777 0:0 -> /etc']],
    ['dir over symlink', [[{ name: 'd', kind: 'symlink', linkname: 'x' }], [dir('d')]], ['/d d 0755 0:0']],
    ['missing parents are created', [[file('a/b/c', 'deep')]], ['/a d 0755 0:0', '/a/b d 0755 0:0', '/a/b/c f 0644 0:0 "deep"']],
    ['a parent that is a file becomes a directory', [[file('a', 'f')], [file('a/b', 'x')]], ['/a d 0755 0:0', '/a/b f 0644 0:0 "x"']],
    ['same path twice in a layer: the last wins', [[file('a', 'one'), file('a', 'two')]], ['/a f 0644 0:0 "two"']],
    ['leading / and duplicate slashes are cleaned', [[file('/abs//x', 'x'), file('./rel/./y', 'y')]],
      ['/abs d 0755 0:0', '/abs/x f 0644 0:0 "x"', '/rel d 0755 0:0', '/rel/y f 0644 0:0 "y"']],
    ['symlink loops are data, never followed', [[{ name: 'a', kind: 'symlink', linkname: 'b' }, { name: 'b', kind: 'symlink', linkname: 'a' }], [file('a/../c', 'c')]],
      ['/a l 0777 0:0 -> b', '/b l 0777 0:0 -> a', '/c f 0644 0:0 "c"']],
    ['numeric ids up to 2^32-2, setuid/setgid/sticky', [[file('big', 'x', { uid: 4294967294, gid: 4294967294, mode: 0o4755 }), dir('t', { mode: 0o1777 }), dir('g', { mode: 0o2775 })]],
      ['/big f 4755 4294967294:4294967294 "x"', '/g d 2775 0:0', '/t d 1777 0:0']],
  ])('%s', async (_name, layers, want) => {
    expect(await listing(await importBytes(img(...(layers as Spec[][]))))).toEqual(want);
  });

  test.each(['../etc/passwd', 'a/../../x', '/../x'])('entry %s escaping the root is an error', async (name) => {
    await expect(importBytes(img([file(name)]))).rejects.toMatchObject({ code: 'UNSAFE_PATH', message: expect.stringContaining(`layer 1`) });
  });
});

describe('hardlinks', () => {
  test('to a file in a lower layer keeps the link group', async () => {
    const res = await importBytes(img([file('a', 'content')], [{ name: 'b', kind: 'hardlink', linkname: 'a' }]));
    const t = res.tree;
    expect(await listing(res)).toEqual(['/a f 0644 0:0 "content"', '/b f 0644 0:0 "content"']);
    const { TreeIndex } = await import('../../src/core/tree/tree-index.ts');
    const ix = new TreeIndex(t);
    expect(ix.inodeAt(ix.lookup('/a'), 1)).toBe(ix.inodeAt(ix.lookup('/b'), 1));
  });

  test('link headers own uid/gid do not change the inode', async () => {
    const res = await importBytes(img([file('a', 'x', { uid: 5, gid: 6, mode: 0o600 }), { name: 'b', kind: 'hardlink', linkname: 'a', uid: 9, gid: 9, mode: 0o777 }]));
    expect(await listing(res)).toEqual(['/a f 0600 5:6 "x"', '/b f 0600 5:6 "x"']);
  });

  test('replacing one name breaks it out of the group', async () => {
    const res = await importBytes(img([file('a', 'old'), { name: 'b', kind: 'hardlink', linkname: 'a' }], [file('a', 'new')]));
    expect(await listing(res)).toEqual(['/a f 0644 0:0 "new"', '/b f 0644 0:0 "old"']);
  });

  test('to a path that does not exist is an error', async () => {
    await expect(importBytes(img([file('a')], [{ name: 'b', kind: 'hardlink', linkname: 'nope' }]))).rejects.toMatchObject({
      code: 'HARDLINK_MISSING', message: expect.stringMatching(/layer 2 .*"b".*"nope"/),
    });
  });

  test('to a directory is an error', async () => {
    await expect(importBytes(img([dir('d'), { name: 'b', kind: 'hardlink', linkname: 'd' }]))).rejects.toMatchObject({ code: 'HARDLINK_TO_DIR' });
  });
});

describe('per-layer changes', () => {
  test('Added / Modified / Deleted, with chmod-only and re-ship as Modified', async () => {
    const res = await importBytes(img(
      [dir('etc'), file('etc/my-app-config', 'c'), dir('bin'), file('bin/my-app-tools', 'v1')],
      [dir('etc/my-app.d'), file('etc/my-app.d/default.cfg', 'd'), file('bin/my-app-tools', 'v1', { mode: 0o755 }), file('etc/.wh.my-app-config', '')],
    ));
    expect(changes(res, 1)).toEqual([
      'Added: /etc/my-app.d', 'Added: /etc/my-app.d/default.cfg', 'Deleted: /etc/my-app-config', 'Modified: /bin/my-app-tools',
    ]);
    expect(res.meta.layers[1]).toMatchObject({ added: 2, modified: 1, deleted: 1 });
    // the tree as of layer 1 still has the deleted file
    expect(await listing(res, 0)).toContain('/etc/my-app-config f 0644 0:0 "c"');
  });
});
