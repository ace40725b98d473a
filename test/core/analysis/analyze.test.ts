// The whole analysis on real data: an image built from this machine's own dpkg database, Debian
// copyright files, Python dist-packages, a real npm install and a real Go binary, with a later
// layer that removes and upgrades packages, deletes a key and overwrites an .env. Compared with
// dpkg-query and npm ls on the same data.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { analyzeImage, type ContentSource } from '../../../src/core/analysis/analyze.ts';
import { parseGoBinary } from '../../../src/core/analysis/packages/golang.ts';
import type { AnalysisResult, PackageRecord } from '../../../src/core/analysis/types.ts';
import type { ImportResult } from '../../../src/core/import.ts';
import { dockerArchive, tar, type Spec } from '../../helpers/build.ts';
import { importBytes } from '../../helpers/run.ts';

const FX = join(import.meta.dirname, '../../fixtures/packages');
const read = (p: string) => new Uint8Array(readFileSync(p));

function machineStatus(): { text: string; stanzas: Map<string, string> } {
  const text = readFileSync('/var/lib/dpkg/status', 'utf8');
  const stanzas = new Map<string, string>();
  for (const s of text.split(/\n\n+/)) {
    const name = s.match(/^Package: (.+)$/m)?.[1];
    if (name) stanzas.set(name, s);
  }
  return { text, stanzas };
}

/** what dpkg-query says is installed: name -> version (arch-qualified names are reduced to the name) */
function dpkgQuery(): Map<string, string> {
  const out = execFileSync('dpkg-query', ['-W', '-f=${Package}\t${Version}\t${db:Status-Abbrev}\n'], { encoding: 'utf8' });
  const m = new Map<string, string>();
  for (const line of out.trim().split('\n')) {
    const [name, version, status] = line.split('\t');
    if (/^[ih]i/.test(status)) m.set(name.replace(/:.*$/, ''), version);
  }
  return m;
}

/** every regular file below `dir`, as [path in the image, bytes] */
function tree(dir: string, into: string, keep: (p: string) => boolean = () => true): Spec[] {
  const out: Spec[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && keep(p)) out.push({ name: join(into, relative(dir, p)), data: read(p) });
    }
  };
  walk(dir);
  return out;
}

/** the machine's Debian Python packages (the committed egg-infos where a machine has none) */
function pythonMetadata(): Spec[] {
  const site = existsSync('/usr/lib/python3/dist-packages') ? '/usr/lib/python3/dist-packages' : join(FX, 'python');
  const out: Spec[] = [];
  for (const e of readdirSync(site)) {
    const p = join(site, e);
    if (e.endsWith('.dist-info') && existsSync(join(p, 'METADATA'))) out.push({ name: `usr/lib/python3/dist-packages/${e}/METADATA`, data: read(join(p, 'METADATA')) });
    else if (e.endsWith('.egg-info')) {
      if (statSync(p).isFile()) out.push({ name: `usr/lib/python3/dist-packages/${e}`, data: read(p) });
      else if (existsSync(join(p, 'PKG-INFO'))) out.push({ name: `usr/lib/python3/dist-packages/${e}/PKG-INFO`, data: read(join(p, 'PKG-INFO')) });
    }
  }
  return out;
}

let res: ImportResult;
let result: AnalysisResult;
let removed: string, upgraded: string, upgradedFrom: string, upgradedTo: string;
let copyrights = 0;
const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const go = gunzipSync(readFileSync(join(FX, 'go/hello-amd64.gz')));
const byName = (name: string, eco = 'deb') => result.packages.filter((p) => p.ecosystem === eco && p.name === name);

beforeAll(async () => {
  const { text, stanzas } = machineStatus();
  const installed = [...dpkgQuery().keys()].sort();
  removed = installed.find((n) => n.startsWith('lib') && n !== 'libc6') ?? installed[0];
  upgraded = installed.find((n) => n !== removed && /^[a-k]/.test(n) && stanzas.get(n)?.includes('Status: install ok installed'))!;
  upgradedFrom = stanzas.get(upgraded)!.match(/^Version: (.+)$/m)![1];
  upgradedTo = `${upgradedFrom}+strata1`;
  const status2 = text.split(/\n\n+/).filter((s) => !s.startsWith(`Package: ${removed}\n`))
    .map((s) => (s.startsWith(`Package: ${upgraded}\n`) ? s.replace(`Version: ${upgradedFrom}`, `Version: ${upgradedTo}`) : s)).join('\n\n');
  const docs: Spec[] = [];
  for (const pkg of installed) {
    const p = `/usr/share/doc/${pkg}/copyright`;
    if (existsSync(p) && statSync(p).isFile()) { docs.push({ name: p.slice(1), data: read(p) }); copyrights++; }
  }
  const layer1: Spec[] = [
    { name: 'etc/os-release', data: read('/etc/os-release') },
    { name: 'var/lib/dpkg/status', data: text },
    ...docs,
    { name: 'root/.ssh/', kind: 'dir', mode: 0o700 },
    { name: 'root/.ssh/id_rsa', data: key, mode: 0o600 },
    { name: 'app/.env', data: 'APP_ENV=production\nDB_PASSWORD=Sup3r-s3cret-Value\n' },
    { name: 'cache/', kind: 'dir' }, { name: 'cache/old.bin', data: new Uint8Array(5000).fill(7) },
    { name: 'usr/local/bin/hello', data: new Uint8Array(go), mode: 0o755 },
  ];
  const layer2: Spec[] = [
    { name: 'var/lib/dpkg/status', data: status2, mtime: 1800000000 },
    { name: 'root/.ssh/.wh.id_rsa', data: '' },
    { name: 'app/.env', data: 'APP_ENV=production\nDB_PASSWORD=\n', mtime: 1800000000 },
    ...pythonMetadata(),
    ...tree(join(FX, 'npm/app'), 'app'),
    { name: 'cache/', kind: 'dir' }, { name: 'cache/.wh..wh..opq', data: '' }, { name: 'cache/new.bin', data: 'new' },
  ];
  res = await importBytes(dockerArchive({ layers: [tar(layer1), tar(layer2)] }));
  const source: ContentSource = {
    read: async (layer, offset, length) => new Uint8Array(await res.content[layer].slice(offset, offset + length).arrayBuffer()),
  };
  const phases: string[] = [];
  result = await analyzeImage(res.tree, source, { onPhase: (r) => { phases.push(Object.entries(r.phases).filter(([, v]) => v).map(([k]) => k).join('+')); } });
  expect(phases).toEqual(['space', 'space+packages', 'space+packages+content']);
}, 120_000);

describe('packages on real data', () => {
  test('deb, merged filesystem: exactly what dpkg-query lists, minus the removed one, with the upgrade', () => {
    const want = dpkgQuery();
    want.delete(removed);
    want.set(upgraded, upgradedTo);
    const got = new Map(result.packages.filter((p) => p.ecosystem === 'deb' && p.removedIn === null).map((p) => [p.name, p.version]));
    expect(got.size).toBeGreaterThan(50);
    expect(got).toEqual(want);
    for (const p of result.packages.filter((x) => x.ecosystem === 'deb')) expect(p.purl).toMatch(/^pkg:deb\/debian\/.+\?arch=\w+&distro=debian-12/);
  });

  test('deb, all layers: the removed package and the old version, with the layers that brought and removed them', () => {
    expect(byName(removed)).toEqual([expect.objectContaining({ layer: 1, removedIn: 2, replacedBy: null })]);
    expect(byName(upgraded)).toEqual(expect.arrayContaining([
      expect.objectContaining({ version: upgradedFrom, layer: 1, removedIn: 2, replacedBy: upgradedTo }),
      expect.objectContaining({ version: upgradedTo, layer: 2, removedIn: null, replacedBy: null }),
    ]));
    // every other package was there from layer 1 (the status file was rewritten, the package stayed)
    const others = result.packages.filter((p) => p.ecosystem === 'deb' && p.name !== removed && p.name !== upgraded);
    expect(others.every((p) => p.layer === 1 && p.removedIn === null)).toBe(true);
  });

  test('deb licences come from the machine-readable copyright files', () => {
    const licensed = result.packages.filter((p) => p.ecosystem === 'deb' && p.license);
    expect(copyrights).toBeGreaterThan(50);
    expect(licensed.length).toBeGreaterThan(copyrights / 4);
  });

  test('python: every dist-info / egg-info of the machine (one package where Debian ships both), introduced in layer 2', () => {
    const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
    const want = new Set(pythonMetadata().map((s) => {
      const text = new TextDecoder().decode(s.data as Uint8Array);
      return `${norm(text.match(/^Name: *(.+)$/m)![1].trim())}@${text.match(/^Version: *(.+)$/m)![1].trim()}`;
    }));
    const py = result.packages.filter((p) => p.ecosystem === 'pypi');
    expect(want.size).toBeGreaterThan(0);
    expect(new Set(py.map((p) => `${norm(p.name)}@${p.version}`))).toEqual(want);
    expect(py.length).toBe(want.size);
    expect(py.every((p) => p.layer === 2 && p.removedIn === null && p.purl.startsWith('pkg:pypi/'))).toBe(true);
  });

  test('npm: exactly what `npm ls --all` listed for the real install, plus the app itself', () => {
    const ls = JSON.parse(readFileSync(join(FX, 'npm/npm-ls.json'), 'utf8'));
    const want = new Set<string>([`${ls.name}@${ls.version}`]);
    const walk = (deps: Record<string, { version: string; dependencies?: object }> = {}) => {
      for (const [name, d] of Object.entries(deps)) { want.add(`${name}@${d.version}`); walk(d.dependencies as never); }
    };
    walk(ls.dependencies);
    const got = new Set(result.packages.filter((p) => p.ecosystem === 'npm').map((p) => `${p.name}@${p.version}`));
    expect(got).toEqual(want);
  });

  test('golang: the binary\'s modules, located at the binary, from layer 1', async () => {
    const want = (await parseGoBinary(async (o, l) => go.subarray(o, o + l), go.length))!;
    expect(want.length).toBeGreaterThan(2);
    const got = result.packages.filter((p) => p.ecosystem === 'golang');
    expect(got.map((p) => `${p.name}@${p.version}`).sort()).toEqual(want.map((p) => `${p.name}@${p.version}`).sort());
    expect(got.every((p) => p.layer === 1 && p.removedIn === null && p.locations[0] === '/usr/local/bin/hello')).toBe(true);
  });

  test('distro from os-release; no warnings on real data', () => {
    expect(result.distro).toMatchObject({ id: 'debian', versionId: '12' });
    expect(result.warnings).toEqual([]);
  });
});

describe('hidden and sensitive', () => {
  test('the deleted key still ships: found by content, hidden in layer 2', () => {
    const f = result.sensitive.filter((s) => s.path === '/root/.ssh/id_rsa');
    expect(f).toEqual([expect.objectContaining({ layer: 1, visible: false, hiddenIn: 2, rule: expect.stringMatching(/private-key/), reason: expect.stringMatching(/RSA/) })]);
    for (const s of result.sensitive) expect(key).not.toContain(s.reason.replace(/…/g, '').slice(0, 24)); // no key material
  });

  test('the overwritten .env: the old password is found in layer 1, masked; the new one is empty', () => {
    const env = result.sensitive.filter((s) => s.path === '/app/.env');
    const old = env.find((s) => !s.visible)!;
    expect(old).toMatchObject({ layer: 1, hiddenIn: 2 });
    expect(old.reason).not.toContain('Sup3r-s3cret-Value');
    // the visible one has no value: only the name rule remains
    expect(env.filter((s) => s.visible).every((s) => !/password/i.test(s.rule))).toBe(true);
  });

  test('the opaque directory hides the old cache: waste says how', () => {
    expect(result.waste.files).toContainEqual({ path: '/cache/old.bin', layer: 1, size: 5000, supersededIn: 2, how: 'opaque' });
    expect(result.waste.files).toContainEqual(expect.objectContaining({ path: '/var/lib/dpkg/status', layer: 1, supersededIn: 2, how: 'overwritten' }));
  });

  test('no finding anywhere in the real copyright files and package metadata', () => {
    const noisy = result.sensitive.filter((s) => s.path.startsWith('/usr/') || s.path.startsWith('/var/'));
    expect(noisy).toEqual([]);
  });
});

describe('records', () => {
  test('every record is complete and layers are numbered from 1', () => {
    const check = (p: PackageRecord) => {
      expect(p.layer).toBeGreaterThanOrEqual(1);
      expect(p.layer).toBeLessThanOrEqual(2);
      if (p.removedIn !== null) expect(p.removedIn).toBeGreaterThan(p.layer);
      expect(p.locations.length).toBeGreaterThan(0);
      expect(p.purl).toMatch(/^pkg:/);
    };
    result.packages.forEach(check);
  });
});

describe('what is not read is said', () => {
  test('an rpm BerkeleyDB database gives a warning naming it; a malformed database a warning, the rest goes on', async () => {
    const img = await importBytes(dockerArchive({ layers: [tar([
      { name: 'var/lib/rpm/Packages', data: new Uint8Array(4096).fill(1) },
      { name: 'var/lib/dpkg/status', data: 'Package: ok\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\nthis line is not a field\n' },
      { name: 'app/node_modules/x/package.json', data: '{"name":"x","version":"1.0.0"}' },
    ])] }));
    const source: ContentSource = { read: async (l, o, n) => new Uint8Array(await img.content[l].slice(o, o + n).arrayBuffer()) };
    const r = await analyzeImage(img.tree, source);
    expect(r.warnings).toEqual(expect.arrayContaining([
      { path: '/var/lib/rpm/Packages', layer: 1, message: expect.stringMatching(/BerkeleyDB database is not read/) },
      { path: '/var/lib/dpkg/status', layer: 1, message: expect.stringMatching(/^dpkg status: .*; its packages are not listed$/) },
    ]));
    expect(r.packages.map((p) => `${p.ecosystem}:${p.name}`)).toEqual(['npm:x']);
    expect(r.phases).toEqual({ space: true, packages: true, content: true });
  });
});

describe('pause (a background analysis waits while an export runs)', () => {
  const source = (): ContentSource => ({ read: async (l, o, n) => new Uint8Array(await res.content[l].slice(o, o + n).arrayBuffer()) });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('held before the packages phase: nothing more is published until it is let go; the result is the same', async () => {
    const phases: string[] = [];
    let calls = 0;
    let letGo!: () => void;
    const held = new Promise<void>((r) => { letGo = r; });
    const run = analyzeImage(res.tree, source(), {
      // the third call is the one before the packages phase (before the analysis, before space)
      pause: () => (++calls === 3 ? held : Promise.resolve()),
      onPhase: (r) => { phases.push(Object.entries(r.phases).filter(([, v]) => v).map(([k]) => k).join('+')); },
    });
    await sleep(300);
    expect(calls).toBe(3);
    expect(phases).toEqual(['space']);
    letGo();
    expect(await run).toEqual(result);
    expect(phases).toEqual(['space', 'space+packages', 'space+packages+content']);
    expect(calls).toBeGreaterThanOrEqual(5); // and before the content phase
  });

  test('held before it starts: no phase at all; cancelled while held, it ends ABORTED', async () => {
    const phases: string[] = [];
    const ctl = new AbortController();
    const run = analyzeImage(res.tree, source(), {
      signal: ctl.signal,
      pause: () => new Promise<void>((r) => { if (ctl.signal.aborted) r(); else ctl.signal.addEventListener('abort', () => r(), { once: true }); }),
      onPhase: () => { phases.push('x'); },
    });
    await sleep(100);
    expect(phases).toEqual([]);
    ctl.abort();
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(phases).toEqual([]);
  });
});
