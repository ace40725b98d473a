// The browser import/export path's own pieces, in Node: entries as columns (decode worker →
// coordinator), the header walk of uncompressed layers, and the windowed export Blob — each must
// give exactly what the plain path gives.
import { openAsBlob } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { memoryEnv } from '../../src/core/env.ts';
import { decodeLayer } from '../../src/core/layers/decode.ts';
import { importImage, openArchive } from '../../src/core/import.ts';
import { tarBlob, tarContentRefs, tarRecords, type ContentRef } from '../../src/core/export/tar-export.ts';
import { readdirSync } from 'node:fs';
import type { LayerInfo } from '../../src/core/model.ts';
import type { TarEntry } from '../../src/core/tar/reader.ts';
import { EntryPacker, unpackEntries } from '../../src/core/layers/entry-columns.ts';
import { windowBlob, windowedTarBlob } from '../../src/worker/tar-blob.ts';
import { ociArchive, seededBytes as bytes, tar, type Spec } from '../helpers/build.ts';

const GEN = join(import.meta.dirname, '../../../shared/fixtures/generated');

const info = (compression: LayerInfo['compression']): LayerInfo =>
  ({ index: 0, mediaType: 'application/vnd.oci.image.layer.v1.tar', compression, compressedSize: 0, member: 'layer.tar' });

// the image writer's arrays are plain ArrayBuffer-backed; its signature just says Uint8Array
const blobOf = (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]);


/** files from a few bytes to several MiB, with PAX names, links, xattrs and devices in between */
function layerSpecs(seed: number): Spec[] {
  const specs: Spec[] = [{ name: 'd/', kind: 'dir' }];
  const sizes = [0, 1, 511, 512, 513, 10_000, 70_000, 300_000, 3 << 20, 5 << 20];
  for (let i = 0; i < 220; i++) {
    const size = i % 7 === 0 ? sizes[i % sizes.length] : 150_000 + (i * 7919) % 120_000;
    specs.push({ name: `d/f${seed}-${i}.bin`, data: bytes(size, seed * 1000 + i) });
    if (i % 50 === 0) specs.push({ name: `d/${'long-name-'.repeat(12)}${i}`, data: bytes(100, i), xattrs: { 'user.k': bytes(3, i) } });
  }
  specs.push({ name: 'd/link', kind: 'symlink', linkname: `f${seed}-1.bin` });
  specs.push({ name: 'd/hard', kind: 'hardlink', linkname: `d/f${seed}-2.bin` });
  specs.push({ name: 'd/null', kind: 'char', devmajor: 1, devminor: 3 });
  return specs;
}

describe('entry columns', () => {
  test.each(['edge.oci.tar', 'edge.docker.tar'])('%s: every layer\'s entries survive packing unchanged', async (name) => {
    const archive = await openArchive(await openAsBlob(join(GEN, name)), name, memoryEnv);
    const img = await archive.resolve();
    for (const l of img.layers) {
      const plain = await decodeLayer(l.info, l.blob, memoryEnv, { spool: false });
      const packer = new EntryPacker();
      await decodeLayer(l.info, l.blob, memoryEnv, { spool: false, onEntry: (e) => packer.add(e) });
      const { columns, transfer } = packer.finish();
      expect(transfer.every((b) => b instanceof ArrayBuffer)).toBe(true);
      expect(unpackEntries(structuredClone(columns))).toEqual(plain.entries);
    }
  });

  test('big numbers, every kind and empty fields round-trip', () => {
    const e: TarEntry = {
      name: 'x', kind: 'other', typeflag: 'Z', mode: 0o7777, uid: 2 ** 40, gid: 0, size: 2 ** 45 + 3, mtime: 1.5e9 + 0.25,
      linkname: '', devmajor: 0, devminor: 0, xattrs: null, headerOffset: 2 ** 44, dataOffset: 2 ** 44 + 512,
    };
    const kinds: TarEntry['kind'][] = ['file', 'hardlink', 'symlink', 'char', 'block', 'dir', 'fifo', 'other'];
    const all = kinds.map((kind, i) => ({ ...e, kind, name: `n${i}`, linkname: i % 2 ? `l${i}` : '' }));
    const p = new EntryPacker();
    for (let i = 0; i < 3000; i++) p.add(all[i % all.length]); // past the first growth
    expect(unpackEntries(p.finish().columns)).toEqual(Array.from({ length: 3000 }, (_, i) => all[i % all.length]));
  });
});

describe('header walk of uncompressed layers', () => {
  const layer = tar(layerSpecs(1));
  test('the same entries and size as reading the whole stream', async () => {
    const blob = blobOf(layer);
    const walked = await decodeLayer(info('none'), blob, memoryEnv);
    const streamed = await decodeLayer(info('none'), blob, memoryEnv, { hashDiffId: true });
    expect(walked.entries).toEqual(streamed.entries);
    expect(walked.size).toBe(streamed.size);
    expect(walked.content).toBe(blob);
  });

  test.each([
    ['inside a big file (one the walk skips)', async () => {
      const { entries } = await decodeLayer(info('none'), blobOf(layer), memoryEnv);
      const big = entries.find((e) => e.size > 2 << 20)!;
      return big.dataOffset + (1 << 20);
    }],
    ['inside a header', async () => 512 * 3 + 100],
  ])('a layer cut %s fails as the streamed one does', async (_what, at) => {
    const blob = blobOf(layer.subarray(0, await at()));
    const walked = await decodeLayer(info('none'), blob, memoryEnv).catch((e: Error) => e);
    const streamed = await decodeLayer(info('none'), blob, memoryEnv, { hashDiffId: true }).catch((e: Error) => e);
    expect(walked).toBeInstanceOf(Error);
    expect((walked as Error).message).toBe((streamed as Error).message);
  });
});

describe('windowed export Blob', () => {
  test('byte for byte the tar of plain Blob slices (several windows, inlined and sliced content)', async () => {
    const archive = await openArchive(blobOf(ociArchive({ layers: [tar(layerSpecs(1)), tar(layerSpecs(2))] })), 'img.tar', memoryEnv);
    const res = await importImage(await archive.resolve(), memoryEnv);
    const content = (l: number) => res.content[l];
    const want = new Uint8Array(await tarBlob(res.tree, content).arrayBuffer());
    const got = await windowedTarBlob(tarRecords(res.tree), (r) => windowBlob(r, content), 2);
    expect(got.type).toBe('application/x-tar');
    expect(got.size).toBe(want.length);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(want))).toBe(true);
    // a subtree as of the first layer goes through the same path
    const sub = new Uint8Array(await tarBlob(res.tree, content, { layer: 0, path: '/d' }).arrayBuffer());
    const gotSub = await windowedTarBlob(tarRecords(res.tree, { layer: 0, path: '/d' }), (r) => windowBlob(r, content), 1);
    expect(Buffer.from(await gotSub.arrayBuffer()).equals(Buffer.from(sub))).toBe(true);
  });

  test('missing content gives short files, as slices of an empty Blob do', async () => {
    const archive = await openArchive(blobOf(ociArchive({ layers: [tar(layerSpecs(3))] })), 'img.tar', memoryEnv);
    const res = await importImage(await archive.resolve(), memoryEnv);
    const empty = () => new Blob([]);
    const want = new Uint8Array(await tarBlob(res.tree, empty).arrayBuffer());
    const got = await windowedTarBlob(tarRecords(res.tree), (r) => windowBlob(r, empty));
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(want))).toBe(true);
  });
});

describe('the export plan (tarContentRefs)', () => {
  const refsOf = (records: Iterable<unknown>) => [...records].filter((r): r is ContentRef => !(r instanceof Uint8Array) && (r as ContentRef).size > 0);
  test('the content references of tarRecords, in order, for every generated fixture, whole and as of each layer', async () => {
    let checked = 0;
    const PEERS = join(GEN, '../peers');
    const files = [...readdirSync(GEN).map((n) => join(GEN, n)), ...readdirSync(PEERS).map((n) => join(PEERS, n))].filter((n) => n.endsWith('.tar'));
    for (const f of files) {
      const archive = await openArchive(await openAsBlob(f), f, memoryEnv).catch(() => null);
      if (!archive) continue; // peers' broken-on-purpose archives
      const res = await archive.resolve(archive.info.images.length > 1 ? { image: 0 } : {}).then((img) => importImage(img, memoryEnv)).catch(() => null);
      if (!res) continue;
      for (let k = 0; k < res.tree.layerCount; k++) {
        expect([...tarContentRefs(res.tree, { layer: k })], `${f} as of layer ${k + 1}`).toEqual(refsOf(tarRecords(res.tree, { layer: k })));
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    // hardlinks (content once), a subtree
    const archive = await openArchive(blobOf(ociArchive({ layers: [tar(layerSpecs(4)), tar(layerSpecs(5))] })), 'img.tar', memoryEnv);
    const res = await importImage(await archive.resolve(), memoryEnv);
    expect([...tarContentRefs(res.tree)]).toEqual(refsOf(tarRecords(res.tree)));
    expect([...tarContentRefs(res.tree, { layer: 0, path: '/d' })]).toEqual(refsOf(tarRecords(res.tree, { layer: 0, path: '/d' })));
  });
});
