// strata squash / cut as a command: options, usage errors (exit 2), bad input (exit 1, one line,
// nothing left behind), reproducible output, and the gzip layer equal to the in-process reference.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { dockerArchive, ociArchive, tar } from '../helpers/build.ts';
import { FIXTURES, strata } from '../helpers/cli.ts';
import { gzipBlocks } from '../../src/core/compress/gzip-blocks.ts';
import { compressBlock } from '../../src/cli/block-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-wcli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const put = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
const edge = join(FIXTURES, 'generated', 'edge.oci.tar');
const layer = (...names: string[]) => tar(names.map((n) => ({ name: n, data: n })));
const twoLayers = put('two.tar', dockerArchive({ layers: [layer('a'), layer('b')] }));

/** members of a tar file: name → bytes */
function members(path: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of execFileSync('tar', ['-tf', path]).toString().split('\n').filter((n) => n && !n.endsWith('/'))) {
    out.set(name, new Uint8Array(execFileSync('tar', ['-xOf', path, name], { maxBuffer: 1 << 30 })));
  }
  return out;
}
const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

describe('usage errors: exit 2, a line naming the problem, then the usage', () => {
  test.each([
    ['squash without -o', ['squash', twoLayers], /squash needs -o OUT\.tar/],
    ['cut without --layer', ['cut', twoLayers, '-o', join(dir, 'x.tar')], /cut needs --layer K/],
    ['--keep-layers not a number', ['squash', twoLayers, '-o', join(dir, 'x.tar'), '--keep-layers', 'one'], /--keep-layers takes a number/],
    ['--keep-layers on cut', ['cut', twoLayers, '--layer', '1', '-o', join(dir, 'x.tar'), '--keep-layers', '1'], /--keep-layers is an option of squash/],
    ['--layer on squash', ['squash', twoLayers, '--layer', '1', '-o', join(dir, 'x.tar')], /squash takes --keep-layers K, not --layer/],
    ['--no-compress on cut', ['cut', twoLayers, '--layer', '1', '-o', join(dir, 'x.tar'), '--no-compress'], /--no-compress is an option of squash/],
    ['--format of an SBOM', ['squash', twoLayers, '-o', join(dir, 'x.tar'), '--format', 'spdx'], /--format takes docker or oci, not "spdx"/],
    ['--tag on flatten', ['flatten', twoLayers, '-o', join(dir, 'x.tar'), '--tag', 'a:b'], /--tag is an option of squash and cut/],
    ['--no-verify', ['squash', twoLayers, '-o', join(dir, 'x.tar'), '--no-verify'], /always verifies the digests it writes/],
    ['a bad tag', ['squash', twoLayers, '-o', join(dir, 'x.tar'), '--tag', 'Upper/Case:1'], /"Upper\/Case:1" is not an image name: "Upper" is not a lower-case name component/],
    ['a tag with a digest', ['squash', twoLayers, '-o', join(dir, 'x.tar'), '--tag', 'a@sha256:00'], /a digest cannot be a tag/],
    ['a bad --created', ['squash', twoLayers, '-o', join(dir, 'x.tar'), '--created', 'yesterday'], /--created "yesterday" is not a date and time/],
  ])('%s', async (_name, args, message) => {
    const r = await strata(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(existsSync(join(dir, 'x.tar'))).toBe(false);
  });

  test('--keep-layers K must leave a layer to squash; --layer K must exist', async () => {
    let r = await strata(['squash', twoLayers, '-o', join(dir, 'x.tar'), '--keep-layers', '2']);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/^strata: --keep-layers 2: the image has 2 layers; keep 0 to 1 below the squashed one\n$/) });
    r = await strata(['cut', twoLayers, '-o', join(dir, 'x.tar'), '--layer', '3']);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/^strata: --layer 3: the image has 2 layers\n$/) });
  });

  test('SOURCE_DATE_EPOCH that is not a number', async () => {
    const r = await strata(['squash', twoLayers, '-o', join(dir, 'x.tar')], { env: { ...process.env, SOURCE_DATE_EPOCH: '1.5e9' } });
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/^strata: SOURCE_DATE_EPOCH "1\.5e9" is not a whole number of seconds\.\n/) });
  });
});

describe('bad input: exit 1, one line, nothing left behind', () => {
  test.each([
    ['a diff_id mismatch', () => put('diffid.tar', dockerArchive({ layers: [layer('a'), layer('b')], badDiffId: 1 })), /layer 2 of 2 .*uncompressed sha256 is sha256:[0-9a-f]{64} but the config's rootfs\.diff_ids says/],
    ['a compressed digest mismatch in a kept layer', () => put('digest.tar', ociArchive({ layers: [layer('a'), layer('b')], badDigest: 0 })), /layer 1 of 2 .*compressed digest is sha256:[0-9a-f]{64} but the manifest says/],
    ['a missing layer blob', () => put('missing.tar', dockerArchive({ layers: [layer('a'), layer('b')], dropLayer: 0 })), /layer 1 ".*\.tar" .*missing/],
    ['a truncated archive', () => put('truncated.tar', readFileSync(edge).subarray(0, 600_000)), /truncated/],
  ])('%s', async (_name, make, message) => {
    const image = make();
    for (const args of [['squash', '--keep-layers', '1'], ['cut', '--layer', '1']]) {
      const out = join(dir, `bad-${image.split('/').pop()}`);
      const r = await strata([...args, image, '-o', out]);
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^strata: /);
      expect(lines[0]).toMatch(message);
      expect(lines[0]).not.toMatch(/\bat .*\.ts:\d+/);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('.strata-'))).toEqual([]);
    }
  });

  test('an output folder that does not exist', async () => {
    const r = await strata(['squash', twoLayers, '-o', join(dir, 'no', 'such', 'dir', 'x.tar')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: two\.tar: writing .*x\.tar: ENOENT: no such file or directory, open '[^']*'\n$/);
  });

  test('an output that cannot be renamed into place leaves no temp file', async () => {
    const target = join(dir, 'is-a-dir.tar');
    mkdirSync(join(target, 'child'), { recursive: true });
    const r = await strata(['squash', twoLayers, '-o', target]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.includes('.strata-'))).toEqual([]);
  });
});

describe('output', () => {
  test('reproducible: SOURCE_DATE_EPOCH pins created and every byte; --created wins over it', async () => {
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
    const a = join(dir, 'r1.tar'), b = join(dir, 'r2.tar'), c = join(dir, 'r3.tar');
    expect((await strata(['squash', edge, '-o', a, '--keep-layers', '1', '--format', 'oci'], { env })).code).toBe(0);
    expect((await strata(['squash', edge, '-o', b, '--keep-layers', '1', '--format', 'oci'], { env })).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect((await strata(['squash', edge, '-o', c, '--keep-layers', '1', '--format', 'oci', '--created', '2020-02-02T02:02:02Z'], { env })).code).toBe(0);
    const m = members(a);
    const index = json(m.get('index.json')!);
    const manifest = json(m.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!);
    const config = json(m.get(`blobs/sha256/${manifest.config.digest.slice(7)}`)!);
    expect(config.created).toBe('2023-11-14T22:13:20Z');
    const m3 = members(c);
    const i3 = json(m3.get('index.json')!);
    expect(json(m3.get(`blobs/sha256/${json(m3.get(`blobs/sha256/${i3.manifests[0].digest.slice(7)}`)!).config.digest.slice(7)}`)!).created).toBe('2020-02-02T02:02:02Z');
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('edge:latest');
  });

  test('the config keeps everything of the source, with rootfs and history rewritten', async () => {
    const config = {
      architecture: 'arm64', os: 'linux', variant: 'v8', 'os.version': '1.0', author: 'someone', vendor_field: { kept: true },
      config: { Env: ['A=1'], Entrypoint: ['/e'], Cmd: ['c'], User: '1:2', WorkingDir: '/w', ExposedPorts: { '80/tcp': {} }, Volumes: { '/v': {} }, Labels: { l: 'v' }, StopSignal: 'SIGINT' },
      rootfs: { type: 'layers', diff_ids: [] as string[] },
      history: [
        { created_by: 'FROM base', created: '2020-01-01T00:00:00Z' }, { created_by: 'ENV A=1', empty_layer: true },
        { created_by: 'RUN two' }, { created_by: 'LABEL l=v', empty_layer: true }, { created_by: 'RUN three' }, { created_by: 'CMD c', empty_layer: true },
      ],
    };
    const layers = [layer('a'), layer('b'), layer('c')];
    const { createHash } = await import('node:crypto');
    config.rootfs.diff_ids = layers.map((l) => 'sha256:' + createHash('sha256').update(l).digest('hex'));
    const image = put('rich.tar', dockerArchive({ layers, config, tags: ['example.com/team/rich:1.0'] }));
    const out = join(dir, 'rich-squashed.tar');
    expect(await strata(['squash', image, '-o', out, '--keep-layers', '1', '--created', '2024-01-01T00:00:00Z'])).toMatchObject({ code: 0, stderr: '' });
    const m = members(out);
    const manifest = json(m.get('manifest.json')!);
    expect(manifest[0].RepoTags).toEqual(['example.com/team/rich:1.0']);
    const got = json(m.get(manifest[0].Config)!);
    const { created, rootfs, history, ...rest } = got;
    const { rootfs: _r, history: _h, ...srcRest } = config;
    expect(rest).toEqual(srcRest);
    expect(created).toBe('2024-01-01T00:00:00Z');
    expect(rootfs.diff_ids[0]).toBe(config.rootfs.diff_ids[0]);
    expect(rootfs.diff_ids).toHaveLength(2);
    expect(history).toEqual([
      config.history[0], config.history[1], config.history[3],
      { created: '2024-01-01T00:00:00Z', created_by: 'strata squash: layers 2-3 of 3 as one', comment: `merged 2 layers: ${config.rootfs.diff_ids[1]}, ${config.rootfs.diff_ids[2]}` },
      config.history[5],
    ]);
    // a cut keeps the history up to its last layer
    const cut = join(dir, 'rich-cut.tar');
    expect(await strata(['cut', image, '-o', cut, '--layer', '2', '--tag', 'mine', '--format', 'oci'])).toMatchObject({ code: 0, stderr: '' });
    const mc = members(cut);
    const index = json(mc.get('index.json')!);
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('mine:latest');
    const cfg = json(mc.get(`blobs/sha256/${json(mc.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!).config.digest.slice(7)}`)!);
    expect(cfg.history).toEqual(config.history.slice(0, 3));
    expect(cfg.rootfs.diff_ids).toEqual(config.rootfs.diff_ids.slice(0, 2));
    expect(cfg.config).toEqual(config.config);
  });

  test('the gzip layer is the in-process reference (pako, one thread) byte for byte; --no-compress is its tar', async () => {
    const gz = join(dir, 'gz.tar'), plain = join(dir, 'plain.tar');
    // bigger than a few blocks: a 5 MiB file of text, so every block boundary and dictionary matters
    const text = new TextEncoder().encode(Array.from({ length: 400_000 }, (_, i) => `line ${i} ${(i * 2654435761) % 1000}\n`).join('').slice(0, 5 << 20));
    const image = put('big.tar', dockerArchive({ layers: [tar([{ name: 'big.txt', data: text }]), layer('x')], compress: 'gzip' }));
    expect(await strata(['squash', image, '-o', gz, '--created', '2024-01-01T00:00:00Z', '--format', 'oci'])).toMatchObject({ code: 0, stderr: '' });
    expect(await strata(['squash', image, '-o', plain, '--created', '2024-01-01T00:00:00Z', '--format', 'oci', '--no-compress'])).toMatchObject({ code: 0, stderr: '' });
    const layerOf = (path: string) => {
      const m = members(path);
      const index = json(m.get('index.json')!);
      const manifest = json(m.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!);
      return { bytes: m.get(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`)!, mediaType: manifest.layers[0].mediaType };
    };
    const g = layerOf(gz), p = layerOf(plain);
    expect(g.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(p.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(p.bytes.length).toBeGreaterThan(5 << 20);
    expect(Buffer.compare(gunzipSync(g.bytes), p.bytes)).toBe(0);
    expect(Buffer.compare(Buffer.from(gzipBlocks(p.bytes)), Buffer.from(g.bytes))).toBe(0);
  });

  test('Node\'s zlib and pako give the same block bytes (what lets the CLI use zlib)', () => {
    const data = new Uint8Array(readFileSync(edge));
    for (const [start, end] of [[0, 300_000], [400_000, 1_000_000]]) {
      const dict = start ? data.subarray(start - 32768, start) : null;
      for (const last of [false, true]) {
        expect(Buffer.compare(compressBlock(data.subarray(start, end), dict, last, 6, true), compressBlock(data.subarray(start, end), dict, last, 6, false))).toBe(0);
      }
    }
  });
});
