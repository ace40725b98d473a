// A gzip-wrapped plain rootfs (`docker export | gzip`) is judged from its first member and imported
// from its gzip as one layer, instead of being decompressed whole into a copy first. The guess is
// confirmed by the import (the members must not lay out an image archive), and anything that goes
// wrong on the guessed path opens the file again the old way, so messages are what they were.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { memoryEnv } from '../../src/core/env.ts';
import { looksLikeImageLayout, openArchive } from '../../src/core/archive/open.ts';
import { StrataError } from '../../src/core/errors.ts';
import { concat, dockerArchive, gzip, seededBytes as bytes, tar, type Spec } from '../helpers/build.ts';
import { storedKeys, wiredCoordinator } from '../fuzz/storage-check.ts';

const blobOf = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]);
const sha = async (blob: Blob) => createHash('sha256').update(new Uint8Array(await blob.arrayBuffer())).digest('hex');


/** a small root filesystem as `docker export` or `tar -C root .` writes it */
function rootfs(dotSlash: boolean): Uint8Array {
  const p = dotSlash ? './' : '';
  const specs: Spec[] = [
    ...(dotSlash ? [{ name: './', kind: 'dir' as const }] : [{ name: '.dockerenv', data: '' }]),
    { name: `${p}bin/`, kind: 'dir' },
    { name: `${p}bin/sh`, data: bytes(300_000, 1), mode: 0o755 },
    { name: `${p}etc/`, kind: 'dir' },
    { name: `${p}etc/passwd`, data: 'root:x:0:0:root:/root:/bin/sh\n', uid: 0, gid: 0 },
    { name: `${p}etc/${'long-'.repeat(30)}name`, data: bytes(10, 2) },
    { name: `${p}usr/`, kind: 'dir' },
    { name: `${p}usr/big`, data: bytes(3 << 20, 3), uid: 1000, gid: 1000 },
    { name: `${p}usr/link`, kind: 'symlink', linkname: '../bin/sh' },
    { name: `${p}usr/hard`, kind: 'hardlink', linkname: `${p}bin/sh` },
  ];
  return tar(specs);
}

describe('the guess, in the core', () => {
  test.each([['docker export order', false], ['tar -C root . (./ first)', true]])('%s: one gzip layer, the input itself', async (_what, dotSlash) => {
    const input = blobOf(gzip(rootfs(dotSlash)));
    const a = await openArchive(input, 'root.tar.gz', memoryEnv, undefined, { guessRootfs: true });
    expect(a.guessed).toBe(true);
    expect(a.info).toMatchObject({ format: 'rootfs', outerCompression: 'gzip', images: [{ name: 'root filesystem', layerCount: 1 }] });
    const img = await a.resolve();
    expect(img.layers).toHaveLength(1);
    expect(img.layers[0].blob).toBe(input);
    expect(img.layers[0].info).toMatchObject({ compression: 'gzip', compressedSize: input.size, member: 'root.tar.gz' });
    expect(img.meta.format).toBe('rootfs');
    // without the option (the CLI): decompressed first, one uncompressed layer as before
    const b = await openArchive(input, 'root.tar.gz', memoryEnv);
    expect(b.guessed).toBeUndefined();
    expect((await b.resolve()).layers[0].info.compression).toBe('none');
  });

  test.each([
    ['docker save (layer dirs first)', () => dockerArchive({ layers: [tar([{ name: 'a', data: 'x' }])] })],
    ['manifest.json first', () => tar([{ name: 'manifest.json', data: '[]' }, { name: 'etc/passwd', data: '' }])],
    ['an OCI layout', () => tar([{ name: 'oci-layout', data: '{}' }])],
    ['blobs/ first', () => tar([{ name: 'blobs/', kind: 'dir' }, { name: 'etc/passwd', data: '' }])],
    ['a layer named like one', () => tar([{ name: 'layer0.tar', data: 'x' }])],
  ])('%s: not guessed, opened whole as before', async (_what, build) => {
    const a = await openArchive(blobOf(gzip(build())), 'x.tar.gz', memoryEnv, undefined, { guessRootfs: true }).catch((e: unknown) => e as Error);
    if (a instanceof Error) {
      expect(a).toBeInstanceOf(StrataError); // the old path's own message
    } else {
      expect(a.guessed).toBeUndefined();
    }
  });

  test('gzip of something that is not a tar: not guessed, the same error as without the option', async () => {
    const input = blobOf(gzip(bytes(100_000, 9)));
    const guessed = await openArchive(input, 'x.gz', memoryEnv, undefined, { guessRootfs: true }).catch((e: unknown) => e);
    const plain = await openArchive(input, 'x.gz', memoryEnv).catch((e: unknown) => e);
    expect(guessed).toBeInstanceOf(StrataError);
    expect((guessed as Error).message).toBe((plain as Error).message);
  });

  test('a gzip cut short inside its first member: not guessed, the same error', async () => {
    const whole = gzip(rootfs(false));
    const input = blobOf(whole.subarray(0, 40));
    const guessed = await openArchive(input, 'x.tar.gz', memoryEnv, undefined, { guessRootfs: true }).catch((e: unknown) => e);
    const plain = await openArchive(input, 'x.tar.gz', memoryEnv).catch((e: unknown) => e);
    expect((guessed as Error).message).toBe((plain as Error).message);
  });

  test('looksLikeImageLayout: what detect would take for an image archive', () => {
    expect(looksLikeImageLayout(['./', './manifest.json'])).toBe(true);
    expect(looksLikeImageLayout(['index.json'])).toBe(true);
    expect(looksLikeImageLayout(['oci-layout'])).toBe(true);
    expect(looksLikeImageLayout(['abc/', 'abc/json', 'abc/layer.tar'])).toBe(true);
    expect(looksLikeImageLayout(['etc/', 'etc/json', 'usr/manifest.json', 'abc/layer.tar'])).toBe(false);
  });
});

describe('the guess, through the browser\'s import (coordinator, pool, merge worker, IndexedDB)', () => {
  async function imported(bytes: Uint8Array, name: string): Promise<{ format: string; compression: string[]; sha: string; size: number }> {
    const { importImage } = await wiredCoordinator();
    const { expandAll, stopBackground } = await import('../../src/worker/coordinator/expansion.ts');
    const { exportTar } = await import('../../src/worker/coordinator/export.ts');
    const { deleteImage } = await import('../../src/storage/index.ts');
    const rec = await importImage(blobOf(bytes), name, {}, new AbortController().signal, () => {});
    // right after the import (packed layers inflated into the tar), and from the stored content
    const early = await exportTar(rec.id, undefined, undefined, false);
    await expandAll(rec);
    const late = await exportTar(rec.id, undefined, undefined, false);
    expect(await sha(early)).toBe(await sha(late));
    const out = { format: rec.format, compression: rec.layers.map((l) => l.compression), sha: await sha(late), size: late.size };
    await stopBackground(rec.id);
    await deleteImage(rec.id);
    expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
    return out;
  }

  test('a wrapped rootfs: one gzip layer; the flattened tar is the one its plain tar gives', async () => {
    const plain = rootfs(true);
    const want = await imported(plain, 'root.tar');
    expect(want).toMatchObject({ format: 'rootfs', compression: ['none'] });
    const got = await imported(gzip(plain), 'root.tar.gz');
    expect(got).toMatchObject({ format: 'rootfs', compression: ['gzip'] });
    expect(got.sha).toBe(want.sha);
  }, 60_000);

  test('an image archive whose first member looks like a rootfs: the import finds the layout and opens it as the image it is', async () => {
    const layer = tar([{ name: 'etc/', kind: 'dir' }, { name: 'etc/os-release', data: 'ID=test\n' }]);
    const archive = dockerArchive({ layers: [layer] });
    // a README first (as `tar -czf x.tar.gz README <docker save members>` would put it)
    const withReadme = concat([tar([{ name: 'README', data: 'an image\n' }], { eof: false }), archive]);
    const want = await imported(archive, 'image.tar');
    expect(want.format).toBe('docker-save');
    const got = await imported(gzip(withReadme), 'image.tar.gz');
    expect(got).toMatchObject({ format: 'docker-save', compression: ['none'] });
    expect(got.sha).toBe(want.sha);
  }, 60_000);

  test('a wrapped rootfs that is broken past its first member: the error of the old path, nothing left stored', async () => {
    const whole = gzip(rootfs(false));
    const cut = whole.subarray(0, whole.length - 2000);
    const { importImage } = await wiredCoordinator();
    const err = await importImage(blobOf(cut), 'cut.tar.gz', {}, new AbortController().signal, () => {}).catch((e: unknown) => e);
    const old = await openArchive(blobOf(cut), 'cut.tar.gz', memoryEnv).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataError);
    expect((err as Error).message).toBe((old as Error).message);
    expect(Object.values(await storedKeys()).every((x) => x === 0)).toBe(true);
  }, 60_000);
});
