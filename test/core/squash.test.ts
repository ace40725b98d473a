// The squashed layer and written images, in-process: the changeset of layers K+1..N over the
// state of 1..K (checked entry by entry on tiny images and by applying it with our merger on every
// fixture), keep = 0 equals the flattened tar, and the written archive reads back as the same image.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { dockerArchive, tar, type Spec } from '../helpers/build.ts';
import { importBytes } from '../helpers/run.ts';
import { FIXTURES } from '../helpers/cli.ts';
import { squashRecords } from '../../src/core/export/squash.ts';
import { tarRecords, type TarRecord } from '../../src/core/export/tar-export.ts';
import { imageArchiveBlob, type BlobLayer, type ImageWriteOptions } from '../../src/core/export/image-write.ts';
import { gzipBlocks } from '../../src/core/compress/gzip-blocks.ts';
import { FileType } from '../../src/core/model.ts';
import { TreeIndex } from '../../src/core/tree/tree-index.ts';
import { TarReader } from '../../src/core/tar/reader.ts';
import type { ImportResult } from '../../src/core/import.ts';

const dir = (name: string, extra: Partial<Spec> = {}): Spec => ({ name, kind: 'dir', ...extra });
const file = (name: string, data = name, extra: Partial<Spec> = {}): Spec => ({ name, data, ...extra });
const link = (name: string, linkname: string): Spec => ({ name, kind: 'hardlink', linkname });
const sym = (name: string, linkname: string): Spec => ({ name, kind: 'symlink', linkname });
const img = (...layers: Spec[][]) => dockerArchive({ layers: layers.map((l) => tar(l)) });
const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function recordBytes(records: Iterable<TarRecord>, res: ImportResult): Promise<Uint8Array> {
  const parts: BlobPart[] = [];
  for (const r of records) parts.push(r instanceof Uint8Array ? r as Uint8Array<ArrayBuffer> : res.content[r.layer].slice(r.offset, r.offset + r.size));
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

/** "name type [-> link]" per entry of a layer tar, in tar order */
async function entries(layer: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  const r = new TarReader({
    entry: (e) => { out.push(`${e.name} ${e.kind}${e.kind === 'hardlink' || e.kind === 'symlink' ? ` -> ${e.linkname}` : ''}`); },
  }, 'squashed');
  r.push(layer);
  return out;
}

/**
 * Every path at the last layer with what a container would see: type, mode, owner, content, link
 * target, xattrs, and which hardlink group it is in (the group's first path).
 */
async function state(res: ImportResult, k = res.tree.layerCount - 1): Promise<string[]> {
  const t = res.tree;
  const ix = new TreeIndex(t);
  const { FileTree } = await import('../../src/core/tree/file-tree.ts');
  const live = new FileTree(t).liveAt(k);
  const group = new Map<number, string>();
  const hashes = new Map<string, string>();
  const out: string[] = [];
  const walk = async (n: number) => {
    for (const c of ix.children(n)) {
      if (!live[c]) continue;
      const ino = ix.inodeAt(c, k);
      const type = t.iType[ino] as FileType;
      const p = ix.path(c);
      let extra = '';
      if (type === FileType.File) {
        const off = t.iOffset[ino];
        const key = `${t.iLayer[ino]}:${off}:${t.iSize[ino]}`;
        let h = hashes.get(key);
        if (!h) hashes.set(key, h = sha(new Uint8Array(await res.content[t.iLayer[ino]].slice(off, off + t.iSize[ino]).arrayBuffer())).slice(7, 19));
        extra = ' ' + h;
      }
      if (type === FileType.Symlink) extra = ' -> ' + ix.linkTarget(ino);
      if (type === FileType.Char || type === FileType.Block) extra = ` ${t.iDevMajor[ino]},${t.iDevMinor[ino]}`;
      if (type !== FileType.Dir) {
        if (!group.has(ino)) group.set(ino, p);
        else extra += ` =${group.get(ino)}`;
      }
      const xa = ix.xattrsOf(ino);
      if (xa) extra += ' ' + Object.keys(xa).sort().map((x) => `${x}=${Buffer.from(xa[x]).toString('hex')}`).join(',');
      out.push(`${p} ${type} ${t.iMode[ino].toString(8)} ${t.iUid[ino]}:${t.iGid[ino]}${extra}`);
      if (type === FileType.Dir) await walk(c);
    }
  };
  await walk(0);
  return out;
}

/** The image written in memory: layers 1..keep as they were, then the squashed one. */
async function written(res: ImportResult, archive: Uint8Array, o: Partial<ImageWriteOptions> & { keep: number }): Promise<Uint8Array> {
  const opts: ImageWriteOptions = { op: 'squash', format: 'docker', compress: false, created: '2024-01-02T03:04:05Z', ...o };
  const src = new Blob([archive as Uint8Array<ArrayBuffer>]);
  const { openArchive } = await import('../../src/core/archive/open.ts');
  const { memoryEnv } = await import('../../src/core/env.ts');
  const img = await (await openArchive(src, 'src.tar', memoryEnv)).resolve();
  const kept: BlobLayer[] = img.layers.slice(0, opts.keep).map((l, i) => ({
    blob: l.blob, info: { digest: l.info.digest ?? res.computedDiffIds[i]!, diffId: res.computedDiffIds[i]!, size: l.blob.size, compression: l.info.compression },
  }));
  const squashed = async (): Promise<BlobLayer> => {
    const tarBytes = await recordBytes(squashRecords(res.tree, opts.keep), res);
    const blob = opts.compress ? gzipBlocks(tarBytes) : tarBytes;
    return { blob: new Blob([blob as Uint8Array<ArrayBuffer>]), info: { digest: sha(blob), diffId: sha(tarBytes), size: blob.length, compression: opts.compress ? 'gzip' : 'none' } };
  };
  const { blob } = await imageArchiveBlob(res.meta, opts, kept, opts.op === 'squash' ? squashed : null, sha);
  return new Uint8Array(await blob.arrayBuffer());
}

describe('the squashed layer, entry by entry', () => {
  test.each([
    ['a deleted file: a whiteout in its directory',
      [[dir('d'), file('d/a'), file('d/b')], [file('d/.wh.a', '')]], 1, ['d/.wh.a file']],
    ['a deleted directory: one whiteout, not one per child',
      [[dir('d'), dir('d/sub'), file('d/sub/x'), file('d/sub/y')], [file('d/.wh.sub', '')]], 1, ['d/.wh.sub file']],
    ['an opaque directory: explicit whiteouts for the lower children that are gone, the new ones after',
      [[dir('o'), file('o/old1'), file('o/old2'), dir('o/sub'), file('o/sub/deep')], [dir('o', { mode: 0o700 }), file('o/.wh..wh..opq', ''), file('o/new')]], 1,
      ['o/ dir', 'o/.wh.old1 file', 'o/.wh.old2 file', 'o/.wh.sub file', 'o/new file']],
    ['a directory deleted and re-created: whiteouts for what it lost, its new content',
      [[dir('d'), file('d/keep', 'k'), file('d/gone')], [file('.wh.d', '')], [dir('d'), file('d/keep', 'k2')]], 1,
      ['d/ dir', 'd/.wh.gone file', 'd/keep file']],
    ['whiteouts come before the directory\'s other entries',
      [[dir('d'), file('d/z'), file('d/a')], [file('d/.wh.z', ''), file('d/b')]], 1, ['d/.wh.z file', 'd/b file']],
    ['a changed file and an untouched neighbour: only the change',
      [[dir('d'), file('d/a', '1'), file('d/b', '1')], [file('d/a', '2')]], 1, ['d/a file']],
    ['metadata-only directory change: the directory entry alone',
      [[dir('d'), file('d/a')], [dir('d', { mode: 0o700, uid: 7 })]], 1, ['d/ dir']],
    ['file to directory: the applier replaces it, no whiteout',
      [[file('x', 'f')], [dir('x'), file('x/child')]], 1, ['x/ dir', 'x/child file']],
    ['directory to file: the applier drops the subtree, no whiteout',
      [[dir('x'), file('x/child')], [file('x', 'f')]], 1, ['x file']],
    ['symlink to file and file to symlink',
      [[sym('s', 't'), file('f')], [file('s', 'now'), sym('f', 't')]], 1, ['f symlink -> t', 's file']],
    ['a hardlink to a kept file links to it',
      [[file('a', 'content')], [link('b', 'a')]], 1, ['b hardlink -> a']],
    ['a hardlink whose kept name was deleted carries the content itself',
      [[file('a', 'content')], [link('b', 'a')], [file('.wh.a', '')]], 1, ['.wh.a file', 'b file']],
    ['a new hardlink group: the first path written holds the content',
      [[file('base')], [file('n1', 'x'), link('n2', 'n1')]], 1, ['n1 file', 'n2 hardlink -> n1']],
    ['deleted and re-created with the same kept content: nothing in between shows',
      [[file('a', 'same')], [file('.wh.a', '')], [file('a', 'again')]], 1, ['a file']],
    ['changes that cancel out are not written',
      [[file('a', 'x')], [file('b', 'tmp')], [file('.wh.b', '')]], 1, []],
    ['the root directory\'s metadata',
      [[dir('.', { mode: 0o755 }), file('a')], [dir('.', { mode: 0o700 })]], 1, ['./ dir']],
  ])('%s', async (_name, layers, keep, want) => {
    const res = await importBytes(img(...(layers as Spec[][])));
    const bytes = await recordBytes(squashRecords(res.tree, keep as number), res);
    expect(await entries(bytes)).toEqual(want);
  });

  test('keep must leave at least one layer to squash', async () => {
    const res = await importBytes(img([file('a')], [file('b')]));
    expect(() => [...squashRecords(res.tree, 2)]).toThrow(RangeError);
    expect(() => [...squashRecords(res.tree, -1)]).toThrow(RangeError);
  });
});

const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');
const fixtures = [
  ...['edge.docker.tar', 'edge.oci.tar', 'edge.oci-zstd.tar'].map((f) => join(gen, f)),
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).map((f) => join(peers, f.replace(/\.expected\.tsv$/, '.tar'))),
];

describe.each(fixtures.map((f) => [f.split('/').pop()!, f]))('%s', (_name, path) => {
  const load = async () => {
    const bytes = new Uint8Array(readFileSync(path));
    return { bytes, res: await importBytes(bytes) };
  };

  test('keep = 0 is the flattened tar, byte for byte', async () => {
    const { res } = await load();
    const squashed = await recordBytes(squashRecords(res.tree, 0), res);
    const flat = await recordBytes(tarRecords(res.tree), res);
    expect(squashed.length).toBe(flat.length);
    expect(Buffer.compare(squashed, flat)).toBe(0);
  });

  test('every keep: the written image reads back as the same filesystem, kept layers unchanged', async () => {
    const { bytes, res } = await load();
    const want = await state(res);
    const n = res.tree.layerCount;
    for (let keep = 0; keep < n; keep++) {
      const format = keep % 2 ? 'oci' : 'docker';
      const out = await written(res, bytes, { keep, format, compress: keep % 3 !== 1 });
      const back = await importBytes(out);
      expect(back.meta.layers.length, `keep ${keep}`).toBe(keep + 1);
      expect(await state(back), `keep ${keep} (${format})`).toEqual(want);
      for (let i = 0; i < keep; i++) expect(back.computedDiffIds[i]).toBe(res.computedDiffIds[i]);
      expect(back.computedDiffIds[keep]).toBe(back.meta.layers[keep].diffId);
    }
  });

  test('cut at every layer: the image as of that layer', async () => {
    const { bytes, res } = await load();
    for (let k = 1; k <= res.tree.layerCount; k++) {
      const back = await importBytes(await written(res, bytes, { op: 'cut', keep: k, format: k % 2 ? 'docker' : 'oci' }));
      expect(back.meta.layers.length).toBe(k);
      expect(await state(back)).toEqual(await state(res, k - 1));
    }
  });
});

test('a gzip squashed layer is one gzip member that gunzip reads', async () => {
  const bytes = img([dir('d'), file('d/a', 'x'.repeat(3 << 20))], [file('d/b', 'y')]);
  const res = await importBytes(bytes);
  const out = await written(res, bytes, { keep: 0, compress: true, format: 'oci' });
  const back = await importBytes(out);
  expect(back.meta.layers[0].compression).toBe('gzip');
  expect(back.meta.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
  expect(await state(back)).toEqual(await state(res));
  void gunzipSync;
});
