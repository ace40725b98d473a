// FileTree over a real merge: the shared `edge` fixture (5 layers built by umoci/skopeo), checked
// against its expected listing (edge.expected.tsv) and the layer story in its README.
import { openAsBlob } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { openArchive, importImage } from '../../../src/core/import.ts';
import { blobSpool, jsSha256, type CoreEnv } from '../../../src/core/env.ts';
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { DiffType as D, FileType } from '../../../src/core/model.ts';

const GEN = join(import.meta.dirname, '../../../../shared/fixtures/generated');
const env: CoreEnv = { spool: () => blobSpool(), sha256: jsSha256 };
const TYPE_LETTER: Record<number, string> = {
  [FileType.File]: 'f', [FileType.Dir]: 'd', [FileType.Symlink]: 'l', [FileType.Char]: 'c', [FileType.Block]: 'b', [FileType.Fifo]: 'p',
};

let ft: FileTree;
let last: number;
const n = (p: string) => ft.lookup(p);
const paths = (nodes: number[]) => nodes.map((x) => ft.path(x));

beforeAll(async () => {
  const archive = await openArchive(await openAsBlob(join(GEN, 'edge.oci.tar')), 'edge.oci.tar', env);
  const res = await importImage(await archive.resolve(), env);
  ft = new FileTree(res.tree);
  last = ft.layerCount - 1;
});

describe('edge.oci.tar through FileTree', () => {
  test('the final tree equals edge.expected.tsv (type, mode, owner, size, link target, hardlink groups)', () => {
    const lines = readFileSync(join(GEN, 'edge.expected.tsv'), 'utf8').trimEnd().split('\n');
    const got: string[] = [];
    const leader = new Map<number, string>(); // inode -> first path in sort order
    const walk = (dir: number) => {
      for (const c of ft.listDir(dir, last, 'all')) {
        const fi = ft.info(c, last)!;
        let type = TYPE_LETTER[fi.type];
        let link = fi.linkTarget ?? '-';
        if (fi.type === FileType.File && ft.hardlinkGroup(c, last).length > 0) {
          const first = leader.get(fi.inode);
          if (first) { type = 'h'; link = first; } else leader.set(fi.inode, fi.path);
        }
        const mode = (fi.type === FileType.Symlink ? 0o777 : fi.mode).toString(8).padStart(4, '0');
        const size = fi.type === FileType.File ? String(fi.size) : '-';
        got.push([fi.path, type, mode, fi.uid, fi.gid, size, link].join('\t'));
        if (fi.type === FileType.Dir) walk(c);
      }
    };
    walk(0);
    // the expected file sorts whole paths by bytes; a pre-order walk sorts per component
    const sortBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const expected = lines.map((l) => l.split('\t')).map((f) => [...f.slice(0, 6), f[7]].join('\t'));
    expect(got.map((l) => l.split('\t')[0]).sort(sortBytes)).toEqual(expected.map((l) => l.split('\t')[0]));
    expect(new Set(got)).toEqual(new Set(expected));
    expect(ft.countEntries(last)).toBe(lines.length);
  });

  test('layer 2: deletions show in the changes view, struck rows carry their old state', () => {
    const data = n('/data');
    const changed = paths(ft.listDir(data, 1, 'changes'));
    expect(changed).toEqual(expect.arrayContaining(['/data/del_me.txt', '/data/dir_to_delete', '/data/dir_to_file', '/data/file_to_dir', '/data/modified.txt', '/data/refill_umoci']));
    expect(ft.diffAt(n('/data/del_me.txt'), 1)).toBe(D.Deleted);
    expect(ft.rowInfo(n('/data/dir_to_delete'), 1)).toMatchObject({ diff: D.Deleted, type: FileType.Dir });
    expect(paths(ft.listDir(n('/data/dir_to_delete'), 1, 'changes'))).toEqual(['/data/dir_to_delete/a.txt', '/data/dir_to_delete/sub']);
    expect(ft.info(n('/data/dir_to_file'), 1)?.type).toBe(FileType.File);
    expect(ft.listDir(n('/data/dir_to_file'), 1, 'all')).toEqual([]);
    expect(ft.info(n('/data/chmod_file'), 1)).toMatchObject({ diff: D.Modified, mode: 0o755 });
    expect(ft.info(n('/data/chmod_dir'), 1)).toMatchObject({ diff: D.Modified, mode: 0o700, type: FileType.Dir });
  });

  test('layer 4: the opaque directory drops everything it held before', () => {
    const dir = n('/data/refill_opaque');
    expect(paths(ft.listDir(dir, 3, 'all'))).toEqual(['/data/refill_opaque/fresh.txt', '/data/refill_opaque/keep', '/data/refill_opaque/sub']);
    const gone = paths(ft.listDir(dir, 3, 'changes').filter((x) => ft.diffAt(x, 3) === D.Deleted));
    expect(gone).toEqual(expect.arrayContaining(['/data/refill_opaque/old1', '/data/refill_opaque/old2']));
    expect(paths(ft.listDir(n('/data/refill_opaque/sub'), 3, 'all'))).toEqual(['/data/refill_opaque/sub/new3']);
  });

  test('layer 5: a re-created path and a shrunken hardlink group', () => {
    expect(ft.history(n('/data/del_me.txt')).map((h) => [h.layer, h.diff])).toEqual([[0, D.Added], [1, D.Deleted], [4, D.Added]]);
    expect(paths(ft.hardlinkGroup(n('/data/hl_new_a'), 2)).sort()).toEqual(['/data/hl_new_b', '/data/sub/hl_new_c']);
    expect(paths(ft.hardlinkGroup(n('/data/hl_new_a'), last))).toEqual(['/data/sub/hl_new_c']);
    expect(paths(ft.hardlinkGroup(n('/bin/busybox'), last)).sort()).toEqual(['/bin/cat', '/bin/ls']);
    expect(ft.changes(last).deleted).toBeGreaterThanOrEqual(1);
  });

  test('symlinks resolve inside the image', () => {
    const r = (p: string) => { const x = ft.resolveSymlink(n(p), last); return x < 0 ? null : ft.path(x); };
    expect(r('/bin/sh')).toBe('/bin/busybox');
    expect(r('/bin/ash')).toBe('/bin/busybox');
    expect(r('/usr/bin/env')).toBe('/bin/busybox');
    expect(r('/data/file_to_symlink')).toBe('/data/target.txt');
    expect(r('/data/long/long_symlink')).toMatch(/file_with_a_path_longer_than_one_hundred_bytes\.txt$/);
  });

  test('one-off liveness (ancestor walk) agrees with the per-layer bitsets on every node and layer', () => {
    const fresh = new FileTree(ft.tree);
    for (let k = 0; k <= last; k++) {
      const live = ft.liveAt(k);
      for (let x = 0; x < ft.nodeCount; x++) expect(fresh.isLive(x, k), `${ft.path(x)} @${k}`).toBe(live[x] === 1);
    }
  });

  test('search, sizes, devices, xattrs, UTF-8 names', () => {
    expect(paths(ft.search('*.txt', last).nodes)).toContain('/data/ünïcödé dir/file with spaces ✓.txt');
    expect(paths(ft.search('日本', last).nodes)).toEqual(['/data/日本語.txt']);
    expect(ft.dirSize(n('/bin'), last)).toBe(3 * 1982256);
    expect(ft.info(n('/dev/null'), last)).toMatchObject({ type: FileType.Char, devMajor: 1, devMinor: 3 });
    const xa = ft.info(n('/data/xattr_file'), last)!.xattrs!;
    expect(new TextDecoder().decode(xa['user.fixture'])).toBe('hello');
  });
});
