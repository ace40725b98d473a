// Bad input: each case a broken fixture → exit 1, ONE line on stderr naming file/layer/path, no
// partial output file. Built from the shared fixtures or in memory with our tar writer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { dockerArchive, gzip, ociArchive, tar } from '../helpers/build.ts';
import { FIXTURES, strata } from '../helpers/cli.ts';
import { FOUND } from '../fuzz/found.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const put = (name: string, bytes: Uint8Array | Buffer) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
const edge = (f: string) => new Uint8Array(readFileSync(join(FIXTURES, 'generated', f)));
const peer = (f: string) => join(FIXTURES, 'peers', f);
const layer = (...names: string[]) => tar(names.map((n) => ({ name: n, data: n })));

function flipCrc(b: Uint8Array): Uint8Array { const c = b.slice(); c[c.length - 8] ^= 0xff; return c; }
function corruptMiddle(b: Uint8Array): Uint8Array { const c = b.slice(); for (let i = 20; i < Math.min(c.length - 10, 60); i++) c[i] ^= 0x5a; return c; }

const png = new Uint8Array(4096); png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const badHeaderLayer = layer('a', 'b'); badHeaderLayer[1024 + 3] ^= 0x7f;

const cases: [string, string, string, RegExp][] = [
  ['truncated outer tar', put('truncated.docker.tar', edge('edge.docker.tar').subarray(0, 1_000_000)), 'TAR_TRUNCATED', /truncated/],
  ['truncated outer gzip', put('truncated.docker.tar.gz', edge('edge.docker.tar.gz').subarray(0, 400_000)), 'GZIP', /gzip stream is truncated/],
  ['corrupt gzip layer', put('corrupt-layer.tar', ociArchive({ layers: [layer('a')], tamper: (_i, b) => corruptMiddle(b) })), 'GZIP', /layer 1 .*gzip data is corrupt/],
  ['bad CRC in a gzip layer', put('bad-crc.tar', ociArchive({ layers: [layer('a')], tamper: (_i, b) => flipCrc(b) })), 'GZIP', /layer 1 .*gzip data is corrupt/],
  ['tar header checksum in a layer', put('bad-header.tar', dockerArchive({ layers: [badHeaderLayer] })), 'TAR_CHECKSUM', /layer 1 .*checksum mismatch\) at byte 1024/],
  ['null manifest', peer('go-containerregistry__null_manifest.tar'), 'NOT_AN_IMAGE', /manifest\.json is null/],
  ['a PNG renamed .tar', put('picture.tar', png), 'NOT_AN_IMAGE', /picture\.tar is not an image archive: it is a PNG image/],
  ['helm chart artifact', peer('go-containerregistry__test_index_media_type.oci-layout.tar'), 'NOT_A_CONTAINER_IMAGE', /a Helm chart .*not a container image/],
  ['manifest points at a missing blob', put('missing.tar', dockerArchive({ layers: [layer('a'), layer('b')], dropLayer: 1 })), 'MISSING_BLOB', /layer 2 ".*\.tar" .*missing/],
  ['missing OCI layer blob', put('missing-oci.tar', ociArchive({ layers: [layer('a')], dropLayer: 0 })), 'MISSING_BLOB', /layer 1 "blobs\/sha256\/[0-9a-f]{64}"/],
  ['malformed manifest JSON', put('bad-json.tar', dockerArchive({ layers: [layer('a')], manifestText: '[{"Config": ' })), 'BAD_JSON', /manifest\.json is not valid JSON/],
  ['compressed digest mismatch', put('digest.tar', ociArchive({ layers: [layer('a'), layer('b')], badDigest: 1 })), 'DIGEST', /layer 2 of 2 .*compressed digest is sha256:[0-9a-f]{64} but the manifest says sha256:[0-9a-f]{64}/],
  ['diff_id mismatch', put('diffid.tar', dockerArchive({ layers: [layer('a')], badDiffId: 0 })), 'DIFFID', /layer 1 of 1 .*uncompressed sha256 is sha256:[0-9a-f]{64} but the config's rootfs\.diff_ids says sha256:[0-9a-f]{64}/],
  ['.. escaping the root', put('dotdot.tar', dockerArchive({ layers: [layer('ok', '../../etc/passwd')] })), 'UNSAFE_PATH', /layer 1 .*"\.\.\/\.\.\/etc\/passwd" escapes the root/],
  ['bare .wh.', put('bare-wh.tar', dockerArchive({ layers: [layer('a'), layer('dir/.wh.')] })), 'BAD_WHITEOUT', /layer 2 .*"dir\/\.wh\."/],
  ['hardlink to a missing path', put('hardlink.tar', dockerArchive({ layers: [tar([{ name: 'b', kind: 'hardlink', linkname: 'nowhere' }])] })), 'HARDLINK', /layer 1 .*"b" points to "nowhere"/],
  ['absent foreign layer', put('foreign.tar', ociArchive({ layers: [layer('a')], dropLayer: 0, layerMediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', urls: ['https://example.invalid/layer'] })),
    'FOREIGN_LAYER', /layer 1 \(sha256:[0-9a-f]{64}\) is a foreign \/ non-distributable layer .*https:\/\/example\.invalid\/layer/],
  ['corrupt zstd layer', put('bad-zstd.tar', ociArchive({ layers: [layer('a')], tamper: () => new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x99, 0x01, 0x02, 0x03]) })), 'ZSTD', /layer 1 .*zstd data is corrupt/],
  ['empty file', put('empty.tar', new Uint8Array(0)), 'NOT_AN_IMAGE', /empty\.tar is empty/],
  ['ambiguous multi-image archive', peer('go-containerregistry__test_bundle.tar'), 'AMBIGUOUS', /holds 2 images: \[0\] .*\[1\] .*--image/],
  // what the fuzzer found (test/fuzz/found.ts: the seed and case of each)
  ...FOUND.map((f): [string, string, string, RegExp] => [`fuzz: ${f.what}`, put(f.name, f.build()), f.code!, new RegExp(f.message!.source.replace(/^\^/, ''))]),
];

describe('bad input: exit 1, one line, no partial output', () => {
  test.concurrent.each(cases)('%s', async (_name, image, _code, message) => {
    const out = join(dir, `out-${image.split('/').pop()}.tar`);
    const r = await strata(['flatten', image, '-o', out]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^strata: /);
    expect(lines[0]).toContain(image.split('/').pop()!);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.strata-'))).toEqual([]);
  });

  test('--no-verify flattens an image whose digests do not match', async () => {
    const out = join(dir, 'noverify.tar');
    const r = await strata(['flatten', join(dir, 'diffid.tar'), '-o', out, '--no-verify']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(execFileSync('tar', ['-tf', out]).toString()).toContain('a');
  });
});

describe('tolerated input', () => {
  test('symlink loops are data', async () => {
    const img = put('loops.tar', dockerArchive({ layers: [tar([
      { name: 'a', kind: 'symlink', linkname: 'b' }, { name: 'b', kind: 'symlink', linkname: 'a' }, { name: 'self', kind: 'symlink', linkname: 'self' },
    ]), layer('a/../c')] }));
    const r = await strata(['ls', img]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/lrwxrwxrwx 0\/0 +0 \/a -> b\n/);
    expect(r.stdout).toContain('/self -> self');
  });

  test('a gzip bomb (tiny input, 1 GiB output) is streamed in bounded memory', async () => {
    const zeros = tar([{ name: 'big', data: new Uint8Array(1 << 30) }]);
    const img = put('bomb.tar', ociArchive({ layers: [zeros] }));
    expect(readFileSync(img).length).toBeLessThan(2 << 20);
    const r = await strata(['ls', img], { wrap: ['/usr/bin/time', '-f', 'maxrss=%M'] });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-rw-r--r-- 0\/0 1073741824 \/big/);
    const rss = Number(/maxrss=(\d+)/.exec(r.stderr)![1]) * 1024;
    expect(rss).toBeLessThan(300 << 20);
  }, 180_000);

  test('100k empty files in one layer', async () => {
    const specs = Array.from({ length: 100_000 }, (_, i) => ({ name: `d${i % 100}/f${i}`, data: '' }));
    const img = put('many.tar', dockerArchive({ layers: [tar(specs)] }));
    const t0 = Date.now();
    const r = await strata(['ls', img]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(100_100);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 120_000);

  test('BuildKit attestation manifests are skipped and said so', async () => {
    const att = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 1,
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': 'sha256:' + 'b'.repeat(64) }, platform: { os: 'unknown', architecture: 'unknown' } };
    const img = put('attested.tar', ociArchive({ layers: [layer('x')], extraManifests: [att] }));
    const j = JSON.parse((await strata(['inspect', img])).stdout);
    expect(j.images).toHaveLength(1);
    expect(j.skipped).toEqual([{ what: att.digest, why: expect.stringContaining('attestation') }]);
  });

  test('a plain root-filesystem tar (docker export) is a one-layer image', async () => {
    const img = put('rootfs.tar', tar([{ name: 'etc/', kind: 'dir' }, { name: 'etc/hostname', data: 'box' }, { name: 'bin/sh', kind: 'symlink', linkname: 'busybox' }]));
    const j = JSON.parse((await strata(['inspect', img])).stdout);
    expect(j.format).toBe('rootfs');
    const r = await strata(['ls', img]);
    expect(r.stdout).toMatch(/\/etc\/hostname\n/);
    expect(r.stdout).toContain('/bin/sh -> busybox');
  });

  test('legacy docker v1 without manifest.json (repositories + parent chain)', async () => {
    const r = await strata(['ls', peer('go-containerregistry__no_manifest.tar')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(0);
  });

  test('outer gzip wrapper and zstd layers', async () => {
    for (const f of ['edge.docker.tar.gz', 'edge.oci-zstd.tar']) {
      const r = await strata(['ls', join(FIXTURES, 'generated', f)]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('/data/refill_opaque/fresh.txt');
    }
  });

  test('multi-member and zero-padded gzip layers', async () => {
    const l = layer('one', 'two');
    const half = 1024;
    const multi = new Uint8Array([...gzip(l.subarray(0, half)), ...gzip(l.subarray(half)), ...new Uint8Array(4096)]);
    const img = put('multi.tar', ociArchive({ layers: [l], tamper: () => multi }));
    const r = await strata(['ls', img]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('/one');
    expect(r.stdout).toContain('/two');
  });
});
