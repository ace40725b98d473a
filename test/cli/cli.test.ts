// CLI surface: usage errors, ls (tree and --changes), inspect JSON, image/platform choice.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FIXTURES, strata } from '../helpers/cli.ts';

const edge = join(FIXTURES, 'generated/edge.oci.tar');
const peer = (f: string) => join(FIXTURES, 'peers', f);

describe('usage', () => {
  test.concurrent.each([
    [[], /usage: strata/],
    [['frobnicate', edge], /unknown command "frobnicate"/],
    [['flatten', edge], /flatten needs -o/],
    [['ls', edge, '--layer', '0'], /--layer takes a layer number from 1/],
    [['ls', edge, '--layer', '9'], /--layer 9: the image has 5 layers/],
    [['ls', edge, '--bogus'], /unknown option --bogus/],
  ])('%j exits 2', async (args, msg) => {
    const r = await strata(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  test('a missing file exits 1 with one line', async () => {
    const r = await strata(['ls', '/nonexistent/image.tar']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining('/nonexistent/image.tar: no such file')]);
  });
});

describe('ls', () => {
  test('--changes prints Added / Modified / Deleted per layer', async () => {
    const r = await strata(['ls', edge, '--changes']);
    expect(r.code).toBe(0);
    const layers = r.stdout.split(/^# /m).filter(Boolean);
    expect(layers).toHaveLength(5);
    expect(layers[1]).toMatch(/^layer 2 sha256:f5423ac9\S+ {2}layer 2: deletes, type changes, chmod\/chown\n/);
    for (const line of ['Deleted: /data/del_me.txt', 'Deleted: /data/dir_to_delete', 'Deleted: /data/dir_to_delete/sub/deeper/c.txt',
      'Modified: /data/chmod_file', 'Modified: /data/dir_to_file', 'Deleted: /data/dir_to_file/x', 'Added: /data/refill_umoci/new1', 'Deleted: /data/refill_umoci/old1']) {
      expect(layers[1]).toContain(line + '\n');
    }
    expect(layers[3]).toContain('Deleted: /data/refill_opaque/old1\n');
    expect(layers[3]).toContain('Modified: /data/refill_opaque/keep\n');
    expect(layers[3]).not.toContain('.wh.');
    expect(layers[4]).toContain('Added: /data/del_me.txt\n');
  });

  test('--layer N shows the tree as of that layer', async () => {
    const r1 = await strata(['ls', edge, '--layer', '1']);
    expect(r1.stdout).toMatch(/-rw-r--r-- 0\/0 +10 \/data\/del_me\.txt\n/);
    expect(r1.stdout).toMatch(/lrwxrwxrwx 0\/0 +0 \/bin\/sh -> busybox\n/);
    const r5 = await strata(['ls', edge]);
    expect(r5.stdout).toMatch(/-rw-r--r-- 0\/0 +11 \/data\/del_me\.txt\n/);
    expect(r5.stdout).toMatch(/crw-r--r-- 0\/0 +1,3 \/dev\/null\n/);
    expect(r5.stdout).toMatch(/-rwsr-xr-x 0\/0 +5 \/data\/suid_bin\n/);
    expect(r5.stdout).toMatch(/drwxrwxrwt 0\/0 +0 \/data\/sticky_dir\n/);
  });
});

describe('inspect', () => {
  test('JSON with images, platform, layers and config', async () => {
    const r = await strata(['inspect', edge]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.format).toBe('oci-layout');
    expect(j.chosen.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(j.layers).toHaveLength(5);
    expect(j.layers[0]).toMatchObject({
      index: 1, digest: 'sha256:cee6112df964bfe148da081bf25c84764a67fc83dd9958935fd2afc069d2e2d2',
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', compression: 'gzip', compressedSize: expect.any(Number), size: 2025984,
      createdBy: 'layer 1: busybox base + victims', verify: { state: 'verified' },
    });
    expect(j.config.cmd).toEqual(['/bin/sh']);
  });

  test('history with empty_layer entries maps onto the right layers', async () => {
    const j = JSON.parse((await strata(['inspect', peer('go-containerregistry__source_image_with_empty_layer_history.tar')])).stdout);
    expect(j.history.length).toBe(2);
    expect(j.history.filter((h: { emptyLayer: boolean }) => h.emptyLayer)).toHaveLength(1);
    expect(j.history.find((h: { layer: number | null }) => h.layer === 0)).toBeDefined();
  });

  test('multi-image archives list every image; --image picks by index or tag', async () => {
    const bundle = peer('go-containerregistry__test_bundle.tar');
    const byTag = JSON.parse((await strata(['inspect', bundle, '--image', 'test_image_1'])).stdout);
    expect(byTag.images).toHaveLength(2);
    expect(byTag.chosen.name).toMatch(/test_image_1$/);
    const byIndex = JSON.parse((await strata(['inspect', bundle, '--image', '0'])).stdout);
    expect(byIndex.chosen.name).toMatch(/test_image_2$/);
    const none = await strata(['inspect', bundle, '--image', 'nope']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/has no image "nope"; it has: \[0\]/);
  });

  test('layer.tar that is a symlink to another layer (test_link)', async () => {
    const r = await strata(['ls', peer('go-containerregistry__test_link.tar'), '--image', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('/test');
    expect(r.stdout).toContain('/foo');
  });

  test('nested indexes (test_index) and --platform', async () => {
    const idx = peer('go-containerregistry__test_index.oci-layout.tar');
    const j = JSON.parse((await strata(['inspect', idx, '--image', '3'])).stdout);
    expect(j.images).toHaveLength(4);
    const wrong = await strata(['inspect', peer('dive__test-oci-uncompressed-image.tar'), '--platform', 'linux/amd64']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no image for platform linux\/amd64; it has: \[0\] .*linux\/arm64/);
    expect((await strata(['inspect', peer('dive__test-oci-uncompressed-image.tar'), '--platform', 'linux/arm64'])).code).toBe(0);
  });

  test('Docker 25+ archive with "manifests": null in index.json uses manifest.json', async () => {
    const j = JSON.parse((await strata(['inspect', peer('go-containerregistry__hello-world-v25.tar')])).stdout);
    expect(j.format).toBe('docker-save-oci');
    expect(j.layers[0].verify.state).toBe('verified');
  });
});

describe('gzip-wrapped archives (docker save | gzip, docker export | gzip)', () => {
  test('a wrapped plain rootfs flattens to the rootfs, and inspect says it was wrapped', async () => {
    const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { gzipSync } = await import('node:zlib');
    const { tar } = await import('../helpers/build.ts');
    const dir = mkdtempSync(join(tmpdir(), 'strata-wrapped-'));
    try {
      const rootfs = tar([{ name: 'etc/', kind: 'dir' }, { name: 'etc/motd', data: 'wrapped\n' }, { name: 'big', data: new Uint8Array(3 << 20) }]);
      const gz = join(dir, 'rootfs.tar.gz');
      writeFileSync(gz, gzipSync(rootfs, { level: 1 }));
      const j = JSON.parse((await strata(['inspect', gz])).stdout);
      expect(j).toMatchObject({ format: 'rootfs', outerCompression: 'gzip' });
      const out = join(dir, 'flat.tar');
      const r = await strata(['flatten', gz, '-o', out]);
      expect(r.stderr).toBe('');
      const flat = readFileSync(out);
      expect(flat.includes('wrapped\n')).toBe(true);
      expect((await strata(['ls', gz])).stdout).toMatch(/-rw-r--r-- 0\/0 +3145728 \/big\n/);
      // damaged inside the gzip stream: one line, GZIP, nothing left behind
      const bad = readFileSync(gz);
      bad[bad.length - 6] ^= 0xff; // the CRC/length trailer
      writeFileSync(join(dir, 'bad.tar.gz'), bad);
      const b = await strata(['flatten', join(dir, 'bad.tar.gz'), '-o', join(dir, 'bad.tar')]);
      expect(b.code).toBe(1);
      expect(b.stderr.trim().split('\n')).toEqual([expect.stringMatching(/bad\.tar\.gz \(gzip wrapper\): gzip data is corrupt/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
