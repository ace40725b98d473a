// Comparison rules on tiny hand-built images: what counts as modified (never mtime alone), what
// is hashed (only equal sizes from different sources, each source once), hardlinks, symlinks,
// type changes, devices, xattrs, directories modified only by their own metadata; config and layers.
import { describe, expect, test } from 'vitest';
import { Comparer, compareImages, packComparison, unpackComparison, type CompareInput } from '../../../src/core/compare/index.ts';
import type { ImageMeta } from '../../../src/core/model.ts';
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { buildImage, chr, del, dir, file, hardlink, symlink, type Op } from '../tree/tree-builder.ts';
import { blobContent, comparisonLines } from './listing.ts';

interface Built { meta: ImageMeta; tree: FileTree; content: Blob[] }

/** An image from layers of ops; `diffIds` names each layer's blob (equal names: one blob). */
function built(layers: Op[][], diffIds: (string | undefined)[] = layers.map((_, i) => `sha256:own-${i}`), config: Partial<ImageMeta['config']> = {}, name = 'img'): Built {
  const { tree, streams } = buildImage(layers);
  const meta: ImageMeta = {
    source: { name, size: 0 }, format: 'oci-layout', image: { index: 0, name, tags: [name], layerCount: layers.length },
    config: { env: ['PATH=/bin'], entrypoint: null, cmd: ['/bin/sh'], exposedPorts: [], volumes: [], labels: {}, os: 'linux', architecture: 'amd64', ...config },
    history: layers.map((_, i) => ({ createdBy: `step ${i + 1}`, emptyLayer: false, layer: i })),
    layers: layers.map((_, index) => ({ index, diffId: diffIds[index], mediaType: 'x', compression: 'none', compressedSize: 0, member: `${index}` })),
    rawConfig: '{}',
  };
  return { meta, tree: new FileTree(tree), content: streams.map((s) => new Blob([s as BlobPart])) };
}

const at = (b: Built, layer: number, id = b.meta.image.name): CompareInput => ({ meta: b.meta, tree: b.tree, layer, id });

async function diff(x: Built, lx: number, y: Built, ly: number, idx?: string, idy?: string) {
  const reads: string[] = [];
  let summary: string[] = [];
  const c = await compareImages(at(x, lx, idx), at(y, ly, idy), blobContent(x.content, y.content, reads), {
    onSummary: (s) => { summary = s.files.map((f) => `${f.pending ? '?' : ''}${f.path}`); },
  });
  return { lines: comparisonLines(c), reads, summary, c };
}

const base = [dir('/etc'), file('/etc/conf', { content: 'abc', mtime: 1 }), file('/etc/big', { content: 'x'.repeat(1000) })];

describe('files: two layers of one image', () => {
  test.each<[string, Op[], string[]]>([
    ['mtime alone is no change (the re-shipped content is hashed to be sure)', [file('/etc/conf', { content: 'abc', mtime: 99 })], []],
    ['chmod', [file('/etc/conf', { content: 'abc', mode: 0o755 })], ['modified /etc/conf mode']],
    ['chown', [file('/etc/conf', { content: 'abc', uid: 5, gid: 6 })], ['modified /etc/conf owner']],
    ['same size, other content', [file('/etc/conf', { content: 'abd' })], ['modified /etc/conf content']],
    ['other size', [file('/etc/conf', { content: 'abcd' })], ['modified /etc/conf content']],
    ['content and mode', [file('/etc/conf', { content: 'xyz', mode: 0o600 })], ['modified /etc/conf content,mode']],
    ['xattrs', [file('/etc/conf', { content: 'abc', xattrs: { 'user.a': '1' } })], ['modified /etc/conf xattrs']],
    ['a new file: its directory is not modified', [file('/etc/new', { content: 'n' })], ['added /etc/new']],
    ['a directory chmod is a change of the directory only', [dir('/etc', { mode: 0o700 })], ['modified /etc mode']],
    ['deleted directory: it and every path below it', [del('/etc')], ['deleted /etc', 'deleted /etc/big', 'deleted /etc/conf']],
    ['file → symlink', [symlink('/etc/conf', 'big')], ['modified /etc/conf type']],
    ['directory → file', [file('/etc', { content: 'now a file' })], ['modified /etc type,mode', 'deleted /etc/big', 'deleted /etc/conf']],
  ])('%s', async (_name, change, want) => {
    const img = built([base, change]);
    const { lines, reads } = await diff(img, 0, img, 1);
    expect(lines).toEqual(want);
    // content is read only for equal sizes from different sources
    const sameSize = change.some((o) => o.op === 'file' && o.path === '/etc/conf' && typeof o.attrs.content === 'string' && o.attrs.content.length === 3);
    expect(reads.length > 0).toBe(sameSize);
  });

  test('packed for crossing threads and back: links, devices, xattrs, hashes, pending flags', async () => {
    const img = built([[...base, symlink('/l', 'a'), chr('/dev/c', [1, 3]), file('/x', { content: 'x', xattrs: { 'user.a': '1' } })],
      [file('/etc/conf', { content: 'abd' }), symlink('/l', 'b'), chr('/dev/c', [1, 4]), file('/x', { content: 'y', xattrs: { 'user.b': '2' } }), del('/etc/big')]]);
    const c = new Comparer(at(img, 0), at(img, 1));
    const s = c.summary();
    expect(s.files.some((f) => f.pending)).toBe(true);
    expect(unpackComparison(structuredClone(packComparison(s)))).toEqual(s);
    const done = await c.settle(s, blobContent(img.content, img.content));
    expect(done.files.some((f) => f.a?.sha256)).toBe(true);
    expect(unpackComparison(structuredClone(packComparison(done)))).toEqual(done);
  });

  test('the summary lists undecided files as pending, and hashing settles them', async () => {
    const img = built([base, [file('/etc/conf', { content: 'abc', mtime: 5 }), file('/etc/big', { content: 'y'.repeat(1000), mode: 0o600 })]]);
    const r = await diff(img, 0, img, 1);
    expect(r.summary).toEqual(['?/etc/big', '?/etc/conf']);
    expect(r.lines).toEqual(['modified /etc/big content,mode']);
    expect(r.c.hashing).toEqual({ files: 4, bytes: 2006, done: 4, doneBytes: 2006 });
    expect(r.c.files[0].a!.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('symlinks: target changes count, their mode does not', async () => {
    const img = built([[symlink('/l', 'a'), symlink('/m', 'a')], [symlink('/l', 'b'), symlink('/m', 'a', { mode: 0o755 })]]);
    expect((await diff(img, 0, img, 1)).lines).toEqual(['modified /l link']);
  });

  test('devices', async () => {
    const img = built([[chr('/dev/null', [1, 3]), chr('/dev/zero', [1, 5])], [chr('/dev/null', [1, 4]), chr('/dev/zero', [1, 5], { mtime: 3 })]]);
    expect((await diff(img, 0, img, 1)).lines).toEqual(['modified /dev/null device']);
  });

  test('hardlinks: a path is compared by its content and metadata; joining a group is no change', async () => {
    const img = built([
      [file('/a', { content: 'one' }), hardlink('/b', '/a'), file('/c', { content: 'two' })],
      // /a gets new content (its link to /b is broken), /d joins /c's group
      [file('/a', { content: 'uno' }), hardlink('/d', '/c')],
    ]);
    const r = await diff(img, 0, img, 1);
    expect(r.lines).toEqual(['modified /a content', 'added /d']);
    // /a's two versions are hashed once each
    expect(r.reads).toHaveLength(2);
  });

  test('each source is hashed once, even when several paths share it', async () => {
    const img = built([
      [file('/a', { content: 'same' }), hardlink('/b', '/a')],
      [file('/a', { content: 'same', mtime: 7 }), hardlink('/b', '/a')],
    ]);
    const r = await diff(img, 0, img, 1);
    expect(r.lines).toEqual([]);
    expect(r.reads.sort()).toEqual(['a:0:512:4', 'b:1:512:4']);
  });

  test('layers and history as of each side', async () => {
    const img = built([base, [file('/x')], [file('/y')]]);
    const { c } = await diff(img, 0, img, 2);
    expect(c.layers).toEqual({ layersA: 1, layersB: 3, shared: 1, newInB: [2, 3] });
    expect(c.config).toEqual([{ field: 'history', change: 'changed', a: '1', b: '3' }]);
    expect([c.a.layer, c.b.layer, c.a.layerCount]).toEqual([1, 3, 3]);
  });
});

describe('files: two images', () => {
  test('reads: neighbours together up to 8 MiB, a big file alone in 4 MiB reads', async () => {
    const big = new Uint8Array(9 << 20).fill(7);
    const small = Array.from({ length: 40 }, (_, i) => file(`/s/${String(i).padStart(2, '0')}`, { content: 'x'.repeat(300_000 + i) }));
    const x = built([[...small, file('/big', { content: big })]], [undefined], {}, 'x');
    const y = built([[...small, file('/big', { content: big })]], [undefined], {}, 'y');
    const r = await diff(x, 0, y, 0);
    expect(r.lines).toEqual([]);
    const a = r.reads.filter((l) => l.startsWith('a:')).map((l) => Number(l.split(':')[3]));
    // 40 files of ~300 kB (with their 512-byte headers): runs of at most 8 MiB, then the big file in 4 MiB reads
    expect(a.slice(-3)).toEqual([4 << 20, 4 << 20, 1 << 20]);
    expect(a.slice(0, -3).every((n) => n <= 8 << 20)).toBe(true);
    expect(a.length - 3).toBe(Math.ceil(40 / Math.floor((8 << 20) / 301_100)));
    expect(r.c.hashing).toMatchObject({ files: 82, done: 82 });
  });

  test('a shared base layer is not read; equal sizes from other blobs are hashed', async () => {
    const x = built([base, [file('/app', { content: 'v1' })]], ['sha256:base', 'sha256:app1'], {}, 'x');
    const y = built([base, [file('/app', { content: 'v2' }), file('/etc/conf', { content: 'abc', mtime: 8 })]], ['sha256:base', 'sha256:app2'], {}, 'y');
    const r = await diff(x, 1, y, 1);
    expect(r.lines).toEqual(['modified /app content']);
    // /app on both sides and /etc/conf in B's layer 2 against A's layer 1: never /etc/big; B's two
    // neighbours in one read
    expect(r.reads.sort()).toEqual(['a:0:1024:3', 'a:1:512:2', 'b:1:512:1027']);
    expect(r.c.hashing).toMatchObject({ files: 4, bytes: 10 });
    expect(r.c.layers).toEqual({ layersA: 2, layersB: 2, shared: 1, newInB: [2] });
  });

  test('without diff_ids nothing is assumed equal across images', async () => {
    const x = built([base], [undefined], {}, 'x');
    const y = built([base], [undefined], {}, 'y');
    const r = await diff(x, 0, y, 0);
    expect(r.lines).toEqual([]);
    // both files of each side, in one read per side (they are neighbours in the layer)
    expect(r.reads.sort()).toEqual(['a:0:1024:2024', 'b:0:1024:2024']);
    expect(r.c.hashing).toMatchObject({ files: 4, done: 4, bytes: 2006, doneBytes: 2006 });
    expect(r.c.layers).toEqual({ layersA: 1, layersB: 1, shared: 0, newInB: [1] });
  });

  test('config: env, entrypoint, cmd, user, workdir, ports, volumes, labels, platform', async () => {
    const x = built([base], undefined, {
      env: ['PATH=/bin', 'GONE=1', 'KEEP=a=b'], entrypoint: ['/init'], user: 'app', exposedPorts: ['80/tcp'], volumes: ['/data'], labels: { a: '1', b: '2' },
    }, 'x');
    const y = built([base], undefined, {
      env: ['PATH=/usr/bin:/bin', 'KEEP=a=b', 'NEW=2'], cmd: ['/app'], workingDir: '/srv', exposedPorts: ['80/tcp', '443/tcp'], volumes: [],
      labels: { a: '1', b: '3', c: '4' }, architecture: 'arm64', variant: 'v8',
    }, 'y');
    const { c } = await diff(x, 0, y, 0);
    expect(c.config).toEqual([
      { field: 'env', key: 'GONE', change: 'removed', a: '1', b: null },
      { field: 'env', key: 'NEW', change: 'added', a: null, b: '2' },
      { field: 'env', key: 'PATH', change: 'changed', a: '/bin', b: '/usr/bin:/bin' },
      { field: 'entrypoint', change: 'removed', a: '["/init"]', b: null },
      { field: 'cmd', change: 'changed', a: '["/bin/sh"]', b: '["/app"]' },
      { field: 'user', change: 'removed', a: 'app', b: null },
      { field: 'workingDir', change: 'added', a: null, b: '/srv' },
      { field: 'exposedPorts', key: '443/tcp', change: 'added', a: null, b: '443/tcp' },
      { field: 'volumes', key: '/data', change: 'removed', a: '/data', b: null },
      { field: 'labels', key: 'b', change: 'changed', a: '2', b: '3' },
      { field: 'labels', key: 'c', change: 'added', a: null, b: '4' },
      { field: 'platform', change: 'changed', a: 'linux/amd64', b: 'linux/arm64/v8' },
    ]);
  });

  test('a reader that fails: the error comes through, never a half answer', async () => {
    const x = built([base], [undefined], {}, 'x');
    const y = built([base], [undefined], {}, 'y');
    const c = new Comparer(at(x, 0), at(y, 0));
    const s = c.summary();
    expect(s.complete).toBe(false);
    const reader = { read: async () => new Uint8Array(1), sha256: blobContent([], []).sha256 };
    await expect(c.settle(s, reader)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/^Reading layer 1 of image [AB] to compare a file: got 1 of \d+ bytes/) });
    const ctl = new AbortController();
    ctl.abort();
    await expect(c.settle(s, blobContent(x.content, y.content), { signal: ctl.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  test('paths sort by UTF-8 bytes', async () => {
    const x = built([[dir('/')]], undefined, {}, 'x');
    const y = built([[file('/a-c'), file('/a/b'), file('/\u{1F600}'), file('/\uFB01')]], undefined, {}, 'y');
    expect((await diff(x, 0, y, 0)).lines).toEqual(['added /a', 'added /a-c', 'added /a/b', 'added /\uFB01', 'added /\u{1F600}']);
  });
});
