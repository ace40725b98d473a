// strata squash / cut checked by real tools: for every shared fixture with an expected listing,
// squash (keep 0 and 1) and cut, then `skopeo inspect` and `skopeo copy` into an OCI layout
// (which checks every digest), `umoci unpack` as root, list the rootfs with the fixtures' own
// list_rootfs.py and compare: with the expected listing (squash), with our flatten --layer k (cut).
// `podman load` (vfs storage, no daemon) and `podman image mount` give a second, independent apply.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES, SHARED, strata, type CliResult } from '../helpers/cli.ts';
import { tar } from '../helpers/build.ts';

const tmp = mkdtempSync(join(tmpdir(), 'strata-write-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');
const LIST_ROOTFS = join(gen, 'list_rootfs.py');
const TAR_LISTING = join(SHARED, 'tools', 'tar-listing.py');
const CREATED = '2024-05-06T07:08:09Z';

const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const tools = { skopeo: has('skopeo'), umoci: has('umoci'), podman: has('podman') };
const root = process.getuid?.() === 0;
/** CI (CI_REQUIRE_TOOLS=1) runs everything; test/ci-tools.test.ts fails there when a tool is missing */
const required = process.env.CI_REQUIRE_TOOLS === '1';

function run(cmd: string, args: string[], timeout = 120_000): Promise<CliResult> {
  return new Promise((done) => execFile(cmd, args, { timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
    done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
  }));
}
async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

interface Fixture { image: string; expected: string; extra?: string }
const fixtures: Fixture[] = [
  ...['edge.docker.tar', 'edge.docker.tar.gz', 'edge.oci.tar', 'edge.oci-zstd.tar'].map((f) => ({ image: join(gen, f), expected: join(gen, 'edge.expected.tsv'), extra: join(gen, 'edge.expected-extra.tsv') })),
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).sort().map((f) => {
    const base = f.replace(/\.expected\.tsv$/, '');
    const extra = join(peers, 'expected', `${base}.expected-extra.tsv`);
    return { image: join(peers, `${base}.tar`), expected: join(peers, 'expected', f), ...(existsSync(extra) ? { extra } : {}) };
  }),
];

interface Inspected { layers: { digest: string | null; diffId: string | null; compression: string }[] }
const inspected = new Map<string, Promise<Inspected>>();
function inspectSource(image: string): Promise<Inspected> {
  let p = inspected.get(image);
  if (!p) inspected.set(image, p = strata(['inspect', image]).then((r) => JSON.parse(r.stdout) as Inspected));
  return p;
}

interface Case { name: string; fx: Fixture; args: string[]; format: 'docker' | 'oci'; layers: number; keep: number; cutAt?: number }
function casesOf(fx: Fixture, i: number, layerCount: number): Case[] {
  const f = (n: number): 'docker' | 'oci' => ((i + n) % 2 ? 'docker' : 'oci');
  const short = fx.image.split('/').pop()!;
  const out: Case[] = [{ name: `${short} squash --keep-layers 0`, fx, args: ['squash', '--format', f(0)], format: f(0), layers: 1, keep: 0 }];
  if (layerCount > 1) {
    out.push({ name: `${short} squash --keep-layers 1`, fx, args: ['squash', '--keep-layers', '1', '--format', f(1), ...(i % 3 === 0 ? ['--no-compress'] : [])], format: f(1), layers: 2, keep: 1 });
  }
  const k = Math.max(1, Math.ceil(layerCount / 2));
  out.push({ name: `${short} cut --layer ${k}`, fx, args: ['cut', '--layer', String(k), '--format', f(2)], format: f(2), layers: k, keep: k, cutAt: k });
  return out;
}
// layer counts are read from the fixtures once, before the tests are made
const counts = new Map(fixtures.map((fx) => {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../scripts/strata.mjs'), 'inspect', fx.image], { maxBuffer: 64 << 20 });
  return [fx.image, r.status === 0 ? (JSON.parse(String(r.stdout)) as Inspected).layers.length : 0];
}));
const cases = fixtures.flatMap((fx, i) => casesOf(fx, i, counts.get(fx.image)!));

/** `list_rootfs.py` of a directory tree → [main, extra] listing texts */
async function listRootfs(dir: string, tag: string): Promise<[string, string]> {
  const main = join(tmp, `${tag}.tsv`), extra = join(tmp, `${tag}-extra.tsv`);
  await ok('python3', [LIST_ROOTFS, dir, main, extra]);
  return [readFileSync(main, 'utf8'), readFileSync(extra, 'utf8')];
}

/** What the written image must unpack to: the fixture's expected listing, or (cut) our flatten --layer k through tar-listing.py. */
async function expectedOf(c: Case, dir: string): Promise<[string, string | undefined]> {
  if (c.cutAt === undefined) return [readFileSync(c.fx.expected, 'utf8'), c.fx.extra ? readFileSync(c.fx.extra, 'utf8') : undefined];
  const flat = join(dir, 'flat.tar');
  const r = await strata(['flatten', c.fx.image, '--layer', String(c.cutAt), '-o', flat]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  await ok('python3', [TAR_LISTING, flat, join(dir, 'flat.tsv'), join(dir, 'flat-extra.tsv')]);
  return [readFileSync(join(dir, 'flat.tsv'), 'utf8'), readFileSync(join(dir, 'flat-extra.tsv'), 'utf8')];
}

/** the archive members holding the layers, in order, from manifest.json or the OCI manifest */
async function layerMembers(archive: string, format: 'docker' | 'oci'): Promise<string[]> {
  const read = async (m: string) => JSON.parse((await ok('tar', ['-xOf', archive, m]))) as Record<string, unknown>;
  if (format === 'docker') return ((await read('manifest.json')) as unknown as { Layers: string[] }[])[0].Layers;
  const index = await read('index.json') as { manifests: { digest: string }[] };
  const manifest = await read(`blobs/sha256/${index.manifests[0].digest.slice(7)}`) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`);
}

function memberSha(archive: string, member: string): Promise<string> {
  return new Promise((done, fail) => execFile('tar', ['-xOf', archive, member], { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout) => {
    if (err) fail(err); else done('sha256:' + createHash('sha256').update(stdout).digest('hex'));
  }));
}

/** podman's flags for a private vfs store (its runroot path must be short: ≤ 50 characters) */
function podmanStore(): { flags: string[]; remove(): void } {
  const d = mkdtempSync('/tmp/pm-');
  return { flags: ['--root', join(d, 'root'), '--runroot', join(d, 'run'), '--storage-driver', 'vfs', '--events-backend', 'none', '--cgroup-manager', 'cgroupfs'], remove: () => rmSync(d, { recursive: true, force: true }) };
}
const sourceLoads = new Map<string, Promise<CliResult>>();
/** podman load of the fixture itself (it refuses edge's layer 2, see below) */
function podmanLoadsSource(image: string): Promise<CliResult> {
  let p = sourceLoads.get(image);
  if (!p) {
    const store = podmanStore();
    // podman does not read a gzip-wrapped archive: give it the archive inside
    const plain = image.endsWith('.gz') ? join(tmp, image.split('/').pop()!.replace(/\.gz$/, '')) : image;
    if (plain !== image) writeFileSync(plain, gunzipSync(readFileSync(image)));
    sourceLoads.set(image, p = run('podman', [...store.flags, 'load', '-q', '-i', plain]).finally(() => store.remove()));
  }
  return p;
}

const transport = (c: Case) => (c.format === 'docker' ? 'docker-archive' : 'oci-archive');

describe.runIf(required || (tools.skopeo && tools.umoci && root))('squash and cut: skopeo, umoci and podman load what strata writes', () => {
  test('every fixture makes cases', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(18);
    expect([...counts.values()].every((n) => n > 0)).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(45);
  });

  test.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = join(tmp, c.name.replace(/[^\w.-]+/g, '_'));
    mkdirSync(dir);
    const out = join(dir, 'out.tar');
    const w = await strata([...c.args, c.fx.image, '-o', out, '--created', CREATED], { timeout: 180_000 });
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);

    // skopeo reads the manifest and config: layer count, created time, kept layers' digests
    const info = JSON.parse(await ok('skopeo', ['inspect', `${transport(c)}:${out}`])) as { Layers: string[]; Created: string; Os: string; Architecture: string };
    expect(info.Layers).toHaveLength(c.layers);
    expect(info.Created).toBe(CREATED);
    expect(info.Os).toBeTruthy();
    expect(info.Architecture).toBeTruthy();
    // kept layers are the source's blobs: the same digests (skopeo names docker-archive layers by diff_id)
    const src = await inspectSource(c.fx.image);
    const members = await layerMembers(out, c.format);
    for (let i = 0; i < c.keep; i++) {
      const l = src.layers[i];
      const blob = l.compression === 'none' ? l.diffId : l.digest;
      expect(info.Layers[i], `kept layer ${i + 1}`).toBe(c.format === 'docker' ? l.diffId : blob);
      if (blob) expect(await memberSha(out, members[i]), `kept layer ${i + 1} blob`).toBe(blob);
    }
    const config = JSON.parse(await ok('skopeo', ['inspect', '--config', `${transport(c)}:${out}`])) as { rootfs: { diff_ids: string[] }; history?: { empty_layer?: boolean }[] };
    expect(config.rootfs.diff_ids).toHaveLength(c.layers);
    if (config.history) expect(config.history.filter((h) => !h.empty_layer)).toHaveLength(c.layers);
    for (let i = 0; i < c.keep && i < c.layers - (c.cutAt ? 0 : 1); i++) expect(config.rootfs.diff_ids[i]).toBe(src.layers[i].diffId);

    // skopeo copy verifies every blob's digest; umoci 0.4.7 unpacks gzip (not zstd) layers
    const zstd = src.layers.slice(0, c.keep).some((l) => l.compression === 'zstd');
    await ok('skopeo', ['copy', '-q', ...(zstd ? ['--dest-compress-format', 'gzip'] : []), `${transport(c)}:${out}`, `oci:${join(dir, 'layout')}:t`]);
    await ok('umoci', ['unpack', '--image', `${join(dir, 'layout')}:t`, join(dir, 'bundle')]);
    const [want, wantExtra] = await expectedOf(c, dir);
    const [got, gotExtra] = await listRootfs(join(dir, 'bundle', 'rootfs'), `${c.name}-umoci`.replace(/[^\w.-]+/g, '_'));
    expect(got).toBe(want);
    if (wantExtra !== undefined) expect(gotExtra).toBe(wantExtra);

    // containers/storage applies the layers itself: a second, independent reader. It refuses
    // edge's original layer 2 (whiteouts below data/dir_to_file, which that layer made a file:
    // "unlinkat /data/dir_to_file/sub: not a directory"), so an image that keeps that layer is not
    // podman-loadable, from strata or not; squashing it away makes it loadable.
    const source = tools.podman || required ? await podmanLoadsSource(c.fx.image) : null;
    const keepsRefused = source !== null && source.code !== 0 && /unlinkat .*not a directory/.test(source.stderr) && c.keep >= 2;
    if (source && !keepsRefused) {
      const store = podmanStore();
      try {
        await ok('podman', [...store.flags, 'load', '-q', '-i', out]);
        const id = (await ok('podman', [...store.flags, 'images', '-q', '--no-trunc'])).trim().split('\n')[0];
        expect(id).toMatch(/[0-9a-f]{64}/);
        const mnt = (await ok('podman', [...store.flags, 'image', 'mount', id])).trim();
        const [pg, pgExtra] = await listRootfs(mnt, `${c.name}-podman`.replace(/[^\w.-]+/g, '_'));
        await run('podman', [...store.flags, 'image', 'unmount', '--all']);
        expect(pg).toBe(want);
        if (wantExtra !== undefined) expect(pgExtra).toBe(wantExtra);
      } finally {
        store.remove();
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  test.concurrent.each([
    ['a legacy docker save (no manifest.json)', () => join(peers, 'go-containerregistry__no_manifest.tar')],
    ['a plain root-filesystem tar (docker export)', () => {
      const p = join(tmp, 'rootfs.tar');
      writeFileSync(p, tar([{ name: 'etc', kind: 'dir' }, { name: 'etc/hostname', data: 'box\n' }, { name: 'bin', kind: 'dir' }, { name: 'bin/sh', data: '#!', mode: 0o755 }]));
      return p;
    }],
  ])('%s: squash and cut load in skopeo and umoci, the config is a v2 one', async (name, make) => {
    const image = make();
    const dir = join(tmp, name.replace(/[^\w]+/g, '_'));
    mkdirSync(dir);
    const flat = join(dir, 'flat.tar');
    expect((await strata(['flatten', image, '-o', flat])).code).toBe(0);
    await ok('python3', [TAR_LISTING, flat, join(dir, 'want.tsv'), join(dir, 'want-extra.tsv')]);
    for (const [args, format] of [[['squash'], 'oci'], [['cut', '--layer', '1'], 'docker']] as const) {
      const out = join(dir, `${format}.tar`);
      expect(await strata([...args, image, '-o', out, '--format', format, '--created', CREATED])).toMatchObject({ code: 0, stderr: '' });
      const t = format === 'docker' ? 'docker-archive' : 'oci-archive';
      const config = JSON.parse(await ok('skopeo', ['inspect', '--config', `${t}:${out}`])) as Record<string, unknown>;
      expect(config).toMatchObject({ os: 'linux', created: CREATED, rootfs: { type: 'layers' } });
      expect(config.architecture).toBeTruthy();
      expect(config).not.toHaveProperty('id');
      expect(config).not.toHaveProperty('parent');
      const layout = join(dir, `${format}-layout`), bundle = join(dir, `${format}-bundle`);
      await ok('skopeo', ['copy', '-q', `${t}:${out}`, `oci:${layout}:t`]);
      await ok('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
      const [got] = await listRootfs(join(bundle, 'rootfs'), `${name}-${format}`.replace(/[^\w]+/g, '_'));
      expect(got).toBe(readFileSync(join(dir, 'want.tsv'), 'utf8'));
    }
  });

  test('the check can fail: skopeo copy refuses a written image with one byte changed in its squashed layer', async () => {
    const out = join(tmp, 'tampered.tar');
    expect((await strata(['squash', join(gen, 'edge.oci.tar'), '-o', out, '--format', 'oci', '--no-compress', '--created', CREATED])).code).toBe(0);
    const bytes = readFileSync(out);
    // the squashed layer is the first member after the two directory entries: change a byte of its first entry's name
    bytes[3 * 512 + 1] ^= 1;
    writeFileSync(out, bytes);
    const r = await run('skopeo', ['copy', '-q', `oci-archive:${out}`, `oci:${join(tmp, 'tampered-layout')}:t`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/digest/i);
  });
});
