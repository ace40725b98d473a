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
