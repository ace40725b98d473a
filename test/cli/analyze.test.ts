// CLI analyze and sbom: the JSON shape the issue defines (layers from 1), dive's numbers, the
// readable summary, SBOM files that parse and are reproducible, bad input and usage errors.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES, ROOT, strata } from '../helpers/cli.ts';
import { importBytes } from '../helpers/run.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { analyzeImage } from '../../src/core/analysis/analyze.ts';
import { ociArchive, tar } from '../helpers/build.ts';

const sample = join(ROOT, 'public/sample.tar');

/** the sample's made-up token and the lines of its made-up key, read with the core */
async function secretsOfSample(): Promise<string[]> {
  const res = await importBytes(new Uint8Array(readFileSync(sample)));
  const ft = new FileTree(res.tree);
  const text = async (path: string, layer: number) => {
    const fi = ft.info(ft.lookup(path), layer)!;
    return res.content[fi.content!.layer].slice(fi.content!.offset, fi.content!.offset + fi.size).text();
  };
  const token = (await text('/app/.env', 2)).match(/ghp_\w+/)![0];
  const key = (await text('/root/.ssh/id_ed25519', 0)).split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
  return [token, token.slice(4), ...key];
}
const dive = join(FIXTURES, 'peers/dive__test-docker-image.tar');
const out = mkdtempSync(join(tmpdir(), 'strata-analyze-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('analyze --json', () => {
  test("dive's test image: dive's numbers and the corrected ones", async () => {
    const r = await strata(['analyze', dive, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.dive).toEqual({
      sizeBytes: 1220598, userSizeBytes: 66237, inefficientBytes: 32025, efficiencyScore: 0.9844212134184309, wastedUserPercent: 0.4834911001404049,
      inefficientFiles: [
        { count: 2, sizeBytes: 12810, file: '/root/saved.txt' },
        { count: 2, sizeBytes: 12810, file: '/root/example/somefile1.txt' },
        { count: 2, sizeBytes: 6405, file: '/root/example/somefile3.txt' },
      ],
    });
    expect(j.waste).toMatchObject({ shippedBytes: 1220598, wastedBytes: 32025 });
    expect(j.waste.layers).toHaveLength(14);
    expect(j.waste.layers[0]).toEqual({ layer: 1, shippedBytes: 1154361, wastedBytes: 0 });
    expect(j.waste.files[0]).toEqual({ path: '/root/example/somefile1.txt', layer: 4, size: 6405, supersededIn: 5, how: 'metadata' });
  });

  test('the sample image: packages with their layers, a hidden key, sensitive files', async () => {
    const r = await strata(['analyze', sample, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const pkg = (name: string) => j.packages.filter((p: { name: string }) => p.name === name);
    expect(pkg('curl')).toEqual([expect.objectContaining({ ecosystem: 'deb', version: '7.88.1-10+deb12u5', layer: 1, removedIn: 3, replacedBy: null })]);
    expect(pkg('libssl3')).toEqual([
      expect.objectContaining({ version: '3.0.11-1~deb12u2', layer: 1, removedIn: 3, replacedBy: '3.0.13-1~deb12u1', license: 'Apache-2.0' }),
      expect.objectContaining({ version: '3.0.13-1~deb12u1', layer: 3, removedIn: null }),
    ]);
    expect(pkg('libssl3')[1].purl).toBe('pkg:deb/strata/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=strata-1&upstream=openssl');
    expect(pkg('debug')).toEqual([expect.objectContaining({ ecosystem: 'npm', version: '4.3.4', license: 'MIT', layer: 2, removedIn: null, purl: 'pkg:npm/debug@4.3.4' })]);
    expect(pkg('requests')).toEqual([expect.objectContaining({ ecosystem: 'pypi', layer: 1, removedIn: null })]);
    for (const p of j.packages) expect(Object.keys(p)).toEqual(expect.arrayContaining(['ecosystem', 'name', 'version', 'purl', 'license', 'layer', 'removedIn']));
    const key = j.sensitive.find((s: { path: string }) => s.path === '/root/.ssh/id_ed25519');
    expect(key).toMatchObject({ layer: 1, visible: false, hiddenIn: 3, reason: expect.stringMatching(/private key/i) });
    // one secret, one finding: the token rule, not also the generic `NAME=value` rule
    expect(j.sensitive.filter((s: { path: string }) => s.path === '/app/.env')).toEqual([expect.objectContaining({ visible: true, rule: 'github-token' })]);
    // the secrets themselves are never printed: not the token, not a line of the key
    const secrets = await secretsOfSample();
    expect(secrets.length).toBeGreaterThan(3);
    for (const s of secrets) expect(r.stdout).not.toContain(s);
  });
});

describe('analyze: the content scan on every core', () => {
  test('runs of files taken in turn by the workers (while the main thread works out the other phases) find what one thread finds', async () => {
    // 2 layers × 180 text files of 100–300 KB (≈ 70 MB: several 8 MiB runs per worker), tokens in
    // files spread over the runs, one of them replaced by the upper layer (hidden)
    const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let x = 12345;
    const rnd = (n: number) => Array.from({ length: n }, () => { x = (x * 1103515245 + 12345) >>> 0; return alnum[x % alnum.length]; }).join('');
    const line = 'const value = compute(input, options); // plain source text\n';
    const layer = (k: number) => tar(Array.from({ length: 180 }, (_, i) => {
      const body = line.repeat(Math.floor((100_000 + ((i * 7919) % 200_000)) / line.length));
      const secret = i % 37 === 5 ? `token = "ghp_${rnd(36)}"\n` : '';
      return { name: `src/m${i}/file${k}.js`, data: body.slice(0, body.length >> 1) + secret + body.slice(body.length >> 1) };
    }).concat(k === 1 ? [{ name: 'src/m5/file0.js', data: 'replaced\n' }] : []));
    const bytes = ociArchive({ layers: [layer(0), layer(1)] });
    const path = join(out, 'scan.tar');
    writeFileSync(path, bytes);
    const r = await strata(['analyze', path, '--json']);
    expect(r.stderr).toBe('');
    const cli = JSON.parse(r.stdout).sensitive;
    // the core in this thread, reading each file itself
    const res = await importBytes(bytes);
    const source = { read: async (l: number, o: number, n: number) => new Uint8Array(await res.content[l].slice(o, o + n).arrayBuffer()) };
    const core = (await analyzeImage(res.tree, source)).sensitive;
    expect(cli.length).toBeGreaterThanOrEqual(10);
    expect(cli.some((f: { visible: boolean }) => !f.visible)).toBe(true);
    expect(cli).toEqual(core);
  }, 120_000);
});

describe('analyze: the readable summary', () => {
  test('sizes, both efficiencies, wasted files, sensitive files, packages by ecosystem', async () => {
    const r = await strata(['analyze', sample]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wasted +\d.* efficiency \d+\.\d %/);
    expect(r.stdout).toMatch(/dive's numbers +efficiency 0\.\d{4}/);
    expect(r.stdout).toContain('/var/cache/app/build/objects.pack  (layer 2, opaque in layer 3)');
    expect(r.stdout).toMatch(/HIDDEN \(removed in layer 3\) +\/root\/\.ssh\/id_ed25519/);
    expect(r.stdout).toMatch(/deb +6 \/ 8 +\(2 removed by later layers, 1 of them upgraded in place\)/);
  });
});

describe('sbom', () => {
  test.each([
    ['cyclonedx', 'squashed'], ['cyclonedx', 'all-layers'], ['spdx', 'squashed'], ['spdx', 'all-layers'],
  ])('%s %s: written atomically, reproducible with SOURCE_DATE_EPOCH', async (format, scope) => {
    const file = join(out, `sample.${format}.${scope}.json`);
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1767225600' };
    const r1 = await strata(['sbom', sample, '--format', format, '--scope', scope, '-o', file], { env });
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    const first = readFileSync(file, 'utf8');
    const r2 = await strata(['sbom', sample, '--format', format, '--scope', scope], { env });
    expect(r2.stdout).toBe(first);
    const doc = JSON.parse(first);
    const names = format === 'cyclonedx'
      ? doc.components.map((c: { name: string }) => c.name)
      : doc.packages.map((p: { name: string }) => p.name);
    expect(names).toContain('libssl3');
    expect(names.includes('curl')).toBe(scope === 'all-layers');
    if (format === 'cyclonedx') {
      expect(doc.specVersion).toBe('1.6');
      const curl = doc.components.find((c: { name: string }) => c.name === 'curl');
      if (curl) expect(curl.properties).toEqual(expect.arrayContaining([{ name: 'strata:layer', value: '1' }, { name: 'strata:removedIn', value: '3' }]));
    } else {
      expect(doc.spdxVersion).toBe('SPDX-2.3');
      expect(doc.creationInfo.created).toBe('2026-01-01T00:00:00Z');
    }
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  test('an output path that cannot be written: exit 1, nothing left behind', async () => {
    const r = await strata(['sbom', sample, '-o', join(out, 'no/such/dir/x.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/writing .*x\.json/);
  });
});

describe('bad input and usage', () => {
  test.concurrent.each([
    [['sbom', sample, '--format', 'xml'], /--format takes cyclonedx or spdx, not "xml"/],
    [['sbom', sample, '--scope', 'everything'], /--scope takes squashed or all-layers/],
    [['analyze', sample, '--bogus'], /unknown option --bogus/],
  ])('%j exits 2', async (args, msg) => {
    const r = await strata(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  test('not an image: exit 1 with one line', async () => {
    const junk = join(out, 'junk.tar');
    writeFileSync(junk, 'this is not an image archive at all');
    const r = await strata(['analyze', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(junk)).toBe(true);
  });
});
