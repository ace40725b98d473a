// Written images, the parts without layers: options, tags, creation time, the config and history
// rewrite, member names; and gzip in blocks (CRC-32 and its combination, block ranges, the joined
// stream against Node's zlib and gunzip).
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  checkImageWrite, createdTime, defaultTag, layerMember, newConfig, normalizeTag, writeImageArchive, type ImageWriteOptions, type LayerBlob,
} from '../../src/core/export/image-write.ts';
import { blockCount, blockRange, crc32, crc32Combine, deflateBlock, GZIP_BLOCK, gzipBlocks, gzipHeader, gzipTrailer } from '../../src/core/compress/gzip-blocks.ts';
import type { ImageMeta, LayerInfo } from '../../src/core/model.ts';

function meta(layers: number, raw: unknown = {}, o: Partial<ImageMeta> = {}): ImageMeta {
  const info = (i: number): LayerInfo => ({ index: i, mediaType: 'x', compression: 'gzip', compressedSize: 1, member: `l${i}`, diffId: `sha256:${String(i).repeat(64)}` });
  return {
    source: { name: 'src.tar', size: 1 }, format: 'oci-layout', image: { index: 0, name: 'img', tags: ['img'], layerCount: layers },
    config: { env: [], entrypoint: null, cmd: null, exposedPorts: [], volumes: [], labels: {} }, history: [],
    layers: Array.from({ length: layers }, (_, i) => info(i)), rawConfig: JSON.stringify(raw), ...o,
  };
}
const opts = (o: Partial<ImageWriteOptions> = {}): ImageWriteOptions => ({ op: 'squash', keep: 0, format: 'oci', compress: true, created: '2024-01-01T00:00:00Z', ...o });
const blob = (i: number): LayerBlob => ({ digest: `sha256:${String(i).repeat(64)}`, diffId: `sha256:${String(i).repeat(64)}`, size: 10, compression: 'none' });

describe('options', () => {
  test.each([
    ['keep all layers', opts({ keep: 3 }), /Cannot keep 3 layers below the squashed one: "img" has 3 layers, so keep 0 to 2/],
    ['keep a negative number', opts({ keep: -1 }), /Cannot keep -1 layers/],
    ['keep a fraction', opts({ keep: 0.5 }), /Cannot keep 0.5 layers/],
    ['cut at 0', opts({ op: 'cut', keep: 0 }), /Cannot cut at layer 0: "img" has layers 1 to 3/],
    ['cut past the end', opts({ op: 'cut', keep: 4 }), /Cannot cut at layer 4/],
    ['an unknown format', opts({ format: 'tarball' as 'oci' }), /Unknown image format "tarball": docker or oci/],
    ['a bad tag', opts({ tag: 'a b' }), /"a b" is not an image name/],
    ['a bad created', opts({ created: 'soon' }), /"soon" is not a date and time/],
  ])('%s: BAD_OPTION', (_name, o, message) => {
    expect(() => checkImageWrite(meta(3), o)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', message: expect.stringMatching(message) }));
  });

  test.each([
    ['app', 'app:latest'], ['app:1.2', 'app:1.2'], ['team/app:v1', 'team/app:v1'], ['example.com/a/b:c', 'example.com/a/b:c'],
    ['localhost:5000/x', 'localhost:5000/x:latest'], ['registry.io:443/x:y', 'registry.io:443/x:y'], ['a__b/c-d.e:T_9', 'a__b/c-d.e:T_9'],
  ])('tag %s → %s', (tag, want) => expect(normalizeTag(tag)).toBe(want));

  test.each([
    ['App', /"App" is not a lower-case name component/], ['app:', /"" is not a tag/], ['app:-x', /"-x" is not a tag/],
    ['a//b', /"" is not a lower-case name component/], ['a@sha256:abc', /a digest cannot be a tag/], ['bad_host.io:x/y', /"bad_host.io:x" is not a registry host/],
    ['x'.repeat(256), /longer than 255/],
  ])('tag %s is refused', (tag, message) => {
    expect(() => normalizeTag(tag)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', message: expect.stringMatching(message) }));
  });

  test('default tag: the first tag that is a name, else none', () => {
    expect(defaultTag(meta(1, {}, { image: { index: 0, name: 'x', tags: ['Bad Tag', 'ok/name'], layerCount: 1 } }))).toBe('ok/name:latest');
    expect(defaultTag(meta(1, {}, { image: { index: 0, name: 'sha256:abc', tags: [], layerCount: 1 } }))).toBeUndefined();
  });

  test.each([
    [['2024-01-31T12:00:00Z', undefined], '2024-01-31T12:00:00Z'],
    [['2024-01-31T12:00:00.250+01:00', undefined], '2024-01-31T11:00:00.250Z'],
    [['2024-01-31', '5'], '2024-01-31T00:00:00Z'],
    [[undefined, '1700000000'], '2023-11-14T22:13:20Z'],
    [[undefined, ''], '2001-02-03T04:05:06Z'],
  ])('created from %j', ([pinned, epoch], want) => {
    expect(createdTime(pinned, epoch, new Date('2001-02-03T04:05:06Z'))).toBe(want);
  });

  test.each([[['later', undefined], /--created "later" is not a date and time/], [[undefined, '-1'], /SOURCE_DATE_EPOCH "-1" is not a whole number/],
    [[undefined, '99999999999999999'], /out of range/]])('created from %j is refused', ([pinned, epoch], message) => {
    expect(() => createdTime(pinned, epoch, new Date())).toThrow(expect.objectContaining({ code: 'BAD_OPTION', message: expect.stringMatching(message) }));
  });

  test('member names: content-addressed, by compression in docker format', () => {
    const b = { digest: 'sha256:' + 'a'.repeat(64), diffId: '', size: 1 };
    expect(layerMember('oci', { ...b, compression: 'gzip' })).toBe('blobs/sha256/' + 'a'.repeat(64));
    expect(layerMember('docker', { ...b, compression: 'gzip' })).toBe('a'.repeat(64) + '.tar.gz');
    expect(layerMember('docker', { ...b, compression: 'zstd' })).toBe('a'.repeat(64) + '.tar.zst');
    expect(layerMember('docker', { ...b, compression: 'none' })).toBe('a'.repeat(64) + '.tar');
  });
});

describe('the config', () => {
  const history = [
    { created_by: 'L1' }, { created_by: 'E1', empty_layer: true }, { created_by: 'L2' }, { created_by: 'E2', empty_layer: true },
    { created_by: 'L3' }, { created_by: 'E3', empty_layer: true },
  ];
  const layers = (n: number) => Array.from({ length: n }, (_, i) => blob(i));

  test.each([
    ['squash keep 0', opts({ keep: 0 }), ['E1', 'E2', 'SQ', 'E3']],
    ['squash keep 1', opts({ keep: 1 }), ['L1', 'E1', 'E2', 'SQ', 'E3']],
    ['squash keep 2', opts({ keep: 2 }), ['L1', 'E1', 'L2', 'E2', 'SQ', 'E3']],
    ['cut at 1', opts({ op: 'cut', keep: 1 }), ['L1']],
    ['cut at 2', opts({ op: 'cut', keep: 2 }), ['L1', 'E1', 'L2']],
    ['cut at 3', opts({ op: 'cut', keep: 3 }), ['L1', 'E1', 'L2', 'E2', 'L3']],
  ])('history: %s', (_name, o, want) => {
    const cfg = newConfig(meta(3, { history }), o, layers(o.op === 'cut' ? o.keep : o.keep + 1));
    expect((cfg.history as { created_by: string }[]).map((h) => (h.created_by.startsWith('strata squash') ? 'SQ' : h.created_by))).toEqual(want);
    expect((cfg.rootfs as { diff_ids: string[] }).diff_ids).toHaveLength(o.op === 'cut' ? o.keep : o.keep + 1);
  });

  test('more history entries than layers: the extra ones describe no layer and go', () => {
    const cfg = newConfig(meta(1, { history: [{ created_by: 'L1' }, { created_by: 'ghost' }] }), opts({ op: 'cut', keep: 1 }), layers(1));
    expect(cfg.history).toEqual([{ created_by: 'L1' }]);
  });

  test('no history: one entry per kept layer from what the layers say, then the squashed one', () => {
    const m = meta(2);
    m.layers[0].createdBy = 'legacy cmd';
    m.layers[0].created = '2019-01-01T00:00:00Z';
    const cfg = newConfig(m, opts({ keep: 1 }), layers(2));
    expect(cfg.history).toEqual([
      { created: '2019-01-01T00:00:00Z', created_by: 'legacy cmd' },
      { created: '2024-01-01T00:00:00Z', created_by: 'strata squash: layers 2 of 2 as one', comment: `merged 1 layer: ${m.layers[1].diffId}` },
    ]);
  });

  test('key order and unknown fields are kept; a legacy v1 config loses its chain fields; a bare rootfs gets linux/amd64', () => {
    const raw = { zeta: 1, architecture: 'arm', os: 'linux', id: 'abc', parent: 'def', Size: 5, config: { Env: ['A=1'] }, created: 'old' };
    expect(Object.keys(newConfig(meta(1, raw), opts(), layers(1)))).toEqual(['zeta', 'architecture', 'os', 'id', 'parent', 'Size', 'config', 'created', 'rootfs', 'history']);
    expect(Object.keys(newConfig(meta(1, raw, { format: 'docker-legacy' }), opts(), layers(1)))).toEqual(['zeta', 'architecture', 'os', 'config', 'created', 'rootfs', 'history']);
    expect(newConfig(meta(1, {}, { format: 'rootfs' }), opts(), layers(1))).toMatchObject({ architecture: 'amd64', os: 'linux' });
  });

  test('a config that is not JSON: BAD_JSON', () => {
    expect(() => newConfig(meta(1, {}, { rawConfig: '{"a":' }), opts(), layers(1))).toThrow(expect.objectContaining({ code: 'BAD_JSON' }));
  });

  test('the archive writer checks what it is given', async () => {
    const sink = { write: () => {}, writeKept: async () => {}, writeSquashed: async () => blob(9) };
    await expect(writeImageArchive(meta(3), opts({ keep: 1 }), [], sink, () => 'sha256:0')).rejects.toThrow(/0 kept layer blobs for keep=1/);
    await expect(writeImageArchive(meta(3), opts({ keep: 5 }), [], sink, () => 'sha256:0')).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  test('a squashed layer with the blob of a kept one is not written twice', async () => {
    const parts: string[] = [];
    const sink = {
      write: () => {}, writeKept: async (i: number) => { parts.push(`kept ${i}`); },
      writeSquashed: async (header: (b: LayerBlob) => Uint8Array | null) => { parts.push(header(blob(0)) ? 'squashed' : 'squashed dropped'); return blob(0); },
    };
    const w = await writeImageArchive(meta(2), opts({ keep: 1 }), [blob(0)], sink, () => 'sha256:' + '0'.repeat(64));
    expect(parts).toEqual(['kept 0', 'squashed dropped']);
    expect(w.layers.map((l) => l.digest)).toEqual([blob(0).digest, blob(0).digest]);
  });
});

describe('gzip in blocks', () => {
  const data = new Uint8Array(randomBytes(3 * GZIP_BLOCK + 12345));
  // text-like too: random bytes do not exercise matches
  for (let i = 0; i < data.length / 2; i++) data[i] = 'the quick brown fox jumps over the lazy dog '.charCodeAt(i % 44) ^ (i % 977 === 0 ? 1 : 0);

  test('CRC-32 equals zlib\'s, whole and in pieces of every alignment', () => {
    const z = (zlib as unknown as { crc32: (b: Uint8Array) => number }).crc32;
    for (const n of [0, 1, 7, 8, 9, 63, 64, 1000, 100_003]) expect(crc32(data.subarray(5, 5 + n))).toBe(z(data.subarray(5, 5 + n)));
    let c = 0;
    for (let i = 0; i < 50_000; i += 321) c = crc32(data.subarray(i, Math.min(50_000, i + 321)), c);
    expect(c).toBe(z(data.subarray(0, 50_000)));
  });

  test.each([[0, 0], [0, 5], [5, 0], [1, 1], [100, 4096], [1 << 20, 3], [GZIP_BLOCK, GZIP_BLOCK + 12345]])('crc32Combine(%d bytes, %d bytes)', (a, b) => {
    const x = data.subarray(0, a), y = data.subarray(a, a + b);
    expect(crc32Combine(crc32(x), crc32(y), y.length)).toBe(crc32(data.subarray(0, a + b)));
  });

  test('block ranges cover the stream once, each primed with the 32 KiB before it', () => {
    const total = data.length;
    expect(blockCount(total)).toBe(4);
    expect(blockCount(0)).toBe(1);
    expect(blockCount(GZIP_BLOCK)).toBe(1);
    expect(blockRange(0, total)).toEqual({ start: 0, end: GZIP_BLOCK, dictStart: 0, last: false });
    expect(blockRange(3, total)).toEqual({ start: 3 * GZIP_BLOCK, end: total, dictStart: 3 * GZIP_BLOCK - 32768, last: true });
    expect(blockRange(0, GZIP_BLOCK).last).toBe(true);
  });

  test.each([0, 1, 1000, GZIP_BLOCK, GZIP_BLOCK + 1, 3 * GZIP_BLOCK + 12345])('%d bytes: one gzip member that gunzip and zlib agree on', (n) => {
    const gz = gzipBlocks(data.subarray(0, n));
    expect(Buffer.compare(zlib.gunzipSync(gz), Buffer.from(data.subarray(0, n)))).toBe(0);
    // one member: its trailer is the last 8 bytes
    expect(gz.subarray(gz.length - 8)).toEqual(gzipTrailer(crc32(data.subarray(0, n)), n));
    expect(gz.subarray(0, 10)).toEqual(gzipHeader());
    // each block is what Node's zlib makes of it with the same dictionary and flush
    if (n > GZIP_BLOCK) {
      const r = blockRange(1, n);
      const z = zlib.deflateRawSync(data.subarray(r.start, r.end), { level: 6, dictionary: data.subarray(r.dictStart, r.start), finishFlush: r.last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH });
      expect(Buffer.compare(Buffer.from(deflateBlock(data.subarray(r.start, r.end), data.subarray(r.dictStart, r.start), r.last)), z)).toBe(0);
    }
  });

  test('the trailer keeps the size modulo 2^32 (layers over 4 GiB)', () => {
    expect(Array.from(gzipTrailer(0xdeadbeef, 2 ** 32 + 5))).toEqual([0xef, 0xbe, 0xad, 0xde, 5, 0, 0, 0]);
  });
});
