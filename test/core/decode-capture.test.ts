// Decoding keeps the files a capture test asks for (the analysis's package databases), whatever
// the chunking, for compressed layers and for the header walk of uncompressed ones, and only those.
import { describe, expect, test } from 'vitest';
import { CAPTURE_LIMIT, decodeLayer } from '../../src/core/layers/decode.ts';
import { memoryEnv } from '../../src/core/env.ts';
import type { LayerInfo } from '../../src/core/model.ts';
import { gzip, tar, type Spec } from '../helpers/build.ts';
import { firstDiff } from '../storage/make-image.ts';

const big = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);
/** `dbSize`: past the header walk's skip threshold (2 MiB) for the uncompressed case */
const specs = (dbSize: number): Spec[] => [
  { name: 'etc/', kind: 'dir' },
  { name: './etc/os-release', data: 'ID=debian\n' },
  { name: 'var/lib/dpkg/status', data: big(dbSize, 1) },
  { name: 'usr/bin/tool', data: big(dbSize, 2) },
  { name: 'var/lib/dpkg/status-old', data: 'not asked for' },
  { name: 'empty', data: '' },
  { name: 'link', kind: 'symlink', linkname: 'etc/os-release' },
];
const small = tar(specs(3000));
const large = tar(specs(3 << 20));
const wanted = (path: string) => path === '/etc/os-release' || path === '/var/lib/dpkg/status' || path === '/empty';

function info(compression: 'none' | 'gzip', size: number): LayerInfo {
  return { index: 0, mediaType: 'x', compression, compressedSize: size, member: 'layer.tar' };
}

async function* chunks(b: Uint8Array, n: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += n) yield b.slice(i, i + n);
}

/** os-release and the dpkg status, each equal to its bytes in the layer (an empty file has nothing to keep) */
function expectCaptured(layer: Uint8Array, dbSize: number, got: { offset: number; bytes: Uint8Array }[] | undefined) {
  expect(got!.map((f) => f.bytes.length)).toEqual([10, dbSize]);
  expect(new TextDecoder().decode(got![0].bytes)).toBe('ID=debian\n');
  for (const f of got!) expect(firstDiff(layer.subarray(f.offset, f.offset + f.bytes.length), f.bytes)).toBe(-1);
}

describe('decode with capture', () => {
  test.each([1, 7, 321, 65536])('pushed in %i-byte chunks', async (n) => {
    const d = await decodeLayer(info('none', small.length), new Blob([]), memoryEnv, { source: chunks(small, n), capture: wanted, spool: false });
    expectCaptured(small, 3000, d.captured);
    expect(d.entries.map((e) => e.name)).toEqual(specs(0).map((s) => s.name));
  });

  test('gzip layer', async () => {
    const gz = gzip(large);
    const d = await decodeLayer(info('gzip', gz.length), new Blob([gz as BlobPart]), memoryEnv, { capture: wanted, spool: false });
    expectCaptured(large, 3 << 20, d.captured);
  });

  test('uncompressed layer: the header walk reads a large captured file and still walks the rest', async () => {
    const d = await decodeLayer(info('none', large.length), new Blob([large as BlobPart]), memoryEnv, { capture: wanted });
    expectCaptured(large, 3 << 20, d.captured);
    expect(d.entries).toHaveLength(7);
  });

  test('no capture test: nothing kept', async () => {
    const d = await decodeLayer(info('none', small.length), new Blob([small as BlobPart]), memoryEnv, {});
    expect(d.captured).toBeUndefined();
  });

  test(`stops keeping files past ${CAPTURE_LIMIT >> 20} MiB per layer`, async () => {
    const part = new Uint8Array(CAPTURE_LIMIT / 4);
    const many = tar(Array.from({ length: 5 }, (_, i) => ({ name: `db${i}`, data: part })));
    const d = await decodeLayer(info('none', many.length), new Blob([]), memoryEnv, { source: chunks(many, 1 << 20), capture: () => true, spool: false });
    expect(d.captured!.length).toBe(4);
  });
});

// The header walk of an uncompressed layer (decode.ts walkHeaders) must give the entries that a
// read of every byte gives — across jumps over long file data, files spanning stream chunks and
// headers split between reads — whether the Blob's stream is a byte stream or a plain one. (It
// reads with the default reader: BYOB reads of Blob streams stall in Chromium 156, README.)
describe('header walk of an uncompressed layer', () => {
  const walkSpecs: Spec[] = [
    { name: 'a/', kind: 'dir' },
    { name: 'a/small', data: 'x'.repeat(700) },
    { name: 'a/jumped', data: big(5 << 20, 3) }, // past the 2 MiB jump threshold
    ...Array.from({ length: 40 }, (_, i) => ({ name: `a/f${i}`, data: big(50_000 + i * 997, i) })), // spans buffer edges
    { name: 'a/also-jumped', data: big(3 << 20, 4) },
    { name: 'a/after', data: 'tail' },
    { name: 'a/l', kind: 'symlink' as const, linkname: 'after' },
  ];
  const layer = tar(walkSpecs);
  const fields = (d: { entries: { name: string; size: number; dataOffset: number; headerOffset: number }[] }) =>
    d.entries.map((e) => `${e.name} ${e.size} ${e.headerOffset} ${e.dataOffset}`);

  /** a Blob whose stream is not a byte stream (as some engines' is): its chunks, 64 KiB each */
  class PlainStreamBlob extends Blob {
    override slice(start?: number, end?: number): Blob { return new PlainStreamBlob([super.slice(start, end)]); }
    override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
      const whole = super.stream().getReader();
      return new ReadableStream({ async pull(c) { const r = await whole.read(); if (r.done) c.close(); else for (let i = 0; i < r.value.length; i += 65536) c.enqueue(r.value.slice(i, i + 65536)); } });
    }
  }

  test('a byte stream and a plain stream give the entries of a full read', async () => {
    const full = await decodeLayer(info('none', layer.length), new Blob([]), memoryEnv, { source: chunks(layer, 4093), spool: false });
    expect(full.entries).toHaveLength(walkSpecs.length);
    const bytes = new Blob([layer as BlobPart]);
    const walked = await decodeLayer(info('none', layer.length), bytes, memoryEnv, { capture: (p) => p.startsWith('/a/f3') });
    const plain = await decodeLayer(info('none', layer.length), new PlainStreamBlob([layer as BlobPart]), memoryEnv, { capture: (p) => p.startsWith('/a/f3') });
    expect(() => new PlainStreamBlob([layer as BlobPart]).stream().getReader({ mode: 'byob' })).toThrow();
    expect(fields(walked)).toEqual(fields(full));
    expect(fields(plain)).toEqual(fields(full));
    expect(walked.size).toBe(layer.length);
    // captured files are copies: equal to the layer's bytes
    expect(walked.captured!.map((f) => f.bytes.length)).toEqual(plain.captured!.map((f) => f.bytes.length));
    for (const f of walked.captured!) expect(firstDiff(layer.subarray(f.offset, f.offset + f.bytes.length), f.bytes)).toBe(-1);
    expect(walked.captured!.length).toBe(11); // f3, f30 … f39
  });

  test('a layer cut short in file data still fails as a short layer', async () => {
    const cut = layer.subarray(0, 6 << 20);
    await expect(decodeLayer(info('none', cut.length), new Blob([cut as BlobPart]), memoryEnv, {})).rejects.toMatchObject({ code: 'TAR_TRUNCATED' });
  });
});
