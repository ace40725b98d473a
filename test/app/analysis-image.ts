// Hand-built analyses for the app tests: the sample image's (small, no packages) and a Debian +
// Python web-app image whose layers show every kind of waste, hidden secret and package change.
// The results are written by hand to match the layers (analysis-image.test.ts checks that every
// path they name exists where they say); the core analysis will compute real ones later.
import type { AnalysisResult, AnalysisState, PackageRecord, SupersededFile } from '../../src/core/analysis/types.ts';
import { del, dir, file, type Op } from '../core/tree/tree-builder.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';

/** Regular-file bytes a layer's ops ship. */
export function shippedBytes(ops: Op[]): number {
  let sum = 0;
  for (const o of ops) {
    if (o.op !== 'file') continue;
    const c = o.attrs.content;
    sum += typeof c === 'string' ? new TextEncoder().encode(c).length : c?.length ?? o.attrs.size ?? 0;
  }
  return sum;
}

/** The waste block from the layers and the superseded versions (sorted largest first here). */
function waste(layers: Op[][], files: SupersededFile[]): AnalysisResult['waste'] {
  const per = layers.map((ops, i) => ({
    layer: i + 1, shippedBytes: shippedBytes(ops),
    wastedBytes: files.filter((f) => f.layer === i + 1).reduce((s, f) => s + f.size, 0),
  }));
  const shipped = per.reduce((s, l) => s + l.shippedBytes, 0);
  const wasted = per.reduce((s, l) => s + l.wastedBytes, 0);
  return {
    shippedBytes: shipped, finalBytes: shipped - wasted, wastedBytes: wasted,
    efficiency: shipped === 0 ? 1 : (shipped - wasted) / shipped, layers: per,
    files: [...files].sort((a, b) => b.size - a.size || a.path.localeCompare(b.path)),
  };
}

function dive(layers: Op[][], inefficientFiles: AnalysisResult['dive']['inefficientFiles']): AnalysisResult['dive'] {
  const sizes = layers.map(shippedBytes);
  const sizeBytes = sizes.reduce((a, b) => a + b, 0);
  const userSizeBytes = sizeBytes - sizes[0];
  const inefficientBytes = inefficientFiles.reduce((s, f) => s + f.sizeBytes, 0);
  return {
    sizeBytes, userSizeBytes, inefficientBytes,
    efficiencyScore: 1 - inefficientBytes / sizeBytes,
    wastedUserPercent: userSizeBytes === 0 ? 0 : inefficientBytes / userSizeBytes,
    inefficientFiles: [...inefficientFiles].sort((a, b) => b.sizeBytes - a.sizeBytes),
  };
}

const ALL_PHASES = { space: true, packages: true, content: true };
const done = (result: AnalysisResult): AnalysisState => ({ status: 'done', progress: null, result });

// ---- the sample image (test/app/sample-image.ts) ----

export const SAMPLE_ANALYSIS: AnalysisResult = {
  format: 1,
  dive: dive(SAMPLE_LAYERS, [
    { count: 2, sizeBytes: 95, file: '/etc/passwd' },
    { count: 2, sizeBytes: 3, file: '/old.txt' },
  ]),
  waste: waste(SAMPLE_LAYERS, [
    { path: '/etc/passwd', layer: 1, size: 30, supersededIn: 2, how: 'overwritten' },
    { path: '/old.txt', layer: 1, size: 3, supersededIn: 2, how: 'deleted' },
  ]),
  sensitive: [], packages: [], warnings: [], distro: null, phases: ALL_PHASES,
};
export const SAMPLE_ANALYSIS_STATE = done(SAMPLE_ANALYSIS);

// ---- webapp:1.4 ----

const DPKG_1 = ['base-files 12.4+deb12u5', 'libc6 2.36-9+deb12u4', 'bash 5.2.15-2+b2', 'libssl3 3.0.11-1~deb12u2']
  .map((p) => `Package: ${p.split(' ')[0]}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${p.split(' ')[1]}\n`).join('\n');
const DPKG_2 = ['base-files 12.4+deb12u5', 'libc6 2.36-9+deb12u4', 'bash 5.2.15-2+b2', 'libssl3 3.0.13-1~deb12u1',
  'python3.11 3.11.2-6', 'curl 7.88.1-10+deb12u5', 'libcurl4 7.88.1-10+deb12u5']
  .map((p) => `Package: ${p.split(' ')[0]}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${p.split(' ')[1]}\n`).join('\n');
const SITE = '/usr/local/lib/python3.11/site-packages';
const APT_LISTS = '/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages';
const meta = (name: string, version: string, license: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nLicense: ${license}\n`;
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key: a Strata test fixture\n-----END OPENSSH PRIVATE KEY-----\n';
const ENV = 'FLASK_ENV=production\nAWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n';
const APP_PY = 'from flask import Flask\napp = Flask(__name__)\n';

export const WEBAPP_LAYERS: Op[][] = [
  [
    dir('/'), file('/etc/os-release', { content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' }),
    file('/etc/passwd', { content: 'root:x:0:0:root:/root:/bin/bash\n' }), file('/bin/bash', { size: 1_265_648, mode: 0o755 }),
    file('/usr/lib/x86_64-linux-gnu/libc.so.6', { size: 1_922_136 }), file('/usr/lib/x86_64-linux-gnu/libssl.so.3', { size: 687_456 }),
    file('/usr/share/doc/bash/copyright', { size: 3_000 }), file('/var/cache/debconf/templates.dat', { size: 1_500_000 }),
    file('/var/lib/dpkg/status', { content: DPKG_1 }), dir('/root', { mode: 0o700 }), dir('/tmp', { mode: 0o1777 }),
  ],
  [
    file(APT_LISTS, { size: 8_790_000 }), file('/var/lib/dpkg/status', { content: DPKG_2 }),
    file('/usr/lib/x86_64-linux-gnu/libssl.so.3', { size: 690_112 }), file('/usr/bin/python3.11', { size: 6_831_736, mode: 0o755 }),
    file('/usr/lib/python3.11/os.py', { size: 39_000 }), file('/usr/lib/python3.11/json/__init__.py', { size: 14_000 }),
    file('/usr/bin/curl', { size: 260_000, mode: 0o755 }), file('/var/cache/debconf/templates.dat', { size: 1_520_000 }),
    file('/var/log/apt/term.log', { size: 42_000 }),
  ],
  [
    file('/app/app.py', { content: APP_PY }), file('/app/requirements.txt', { content: 'requests==2.31.0\nflask==3.0.0\n' }),
    file('/app/.env', { content: ENV }), file('/app/data/model.bin', { size: 24_000_000 }),
    file('/root/.ssh/id_rsa', { content: KEY, mode: 0o600 }), file('/usr/local/bin/gosu', { size: 2_300_000, mode: 0o755 }),
    file(`${SITE}/requests-2.31.0.dist-info/METADATA`, { content: meta('requests', '2.31.0', 'Apache 2.0') }),
    file(`${SITE}/requests/__init__.py`, { size: 5_000 }),
    file(`${SITE}/flask-3.0.0.dist-info/METADATA`, { content: meta('Flask', '3.0.0', 'BSD-3-Clause') }),
    file(`${SITE}/setuptools-68.0.0.dist-info/METADATA`, { content: meta('setuptools', '68.0.0', 'MIT') }),
    file(`${SITE}/broken-0.1.dist-info/METADATA`, { content: 'this is not a METADATA file\n' }),
  ],
  [
    del(APT_LISTS), del('/root/.ssh'), del('/var/log/apt/term.log'),
    file('/app/data/model.bin', { size: 24_000_000, mode: 0o755 }), file('/app/app.py', { content: APP_PY, mode: 0o755 }),
  ],
  [
    del(`${SITE}/requests-2.31.0.dist-info`), del(`${SITE}/setuptools-68.0.0.dist-info`),
    file(`${SITE}/requests-2.32.3.dist-info/METADATA`, { content: meta('requests', '2.32.3', 'Apache-2.0') }),
    file(`${SITE}/requests/__init__.py`, { size: 5_200 }), file('/root/.cache/pip/http/a/b/3f9a0c77e1', { size: 3_400_000 }),
  ],
];

export const WEBAPP_CREATED_BY = [
  'ADD rootfs.tar /', 'RUN apt-get update && apt-get install -y python3 curl', 'COPY . /app',
  'RUN rm -rf /var/lib/apt/lists/* /root/.ssh /var/log/apt/* && chmod -R a+rX /app', 'RUN pip install --upgrade requests && pip uninstall -y setuptools',
];

const len = (s: string) => new TextEncoder().encode(s).length;

const deb = (name: string, version: string, license: string | null, layer: number, removed?: [number, string | null]): PackageRecord => ({
  ecosystem: 'deb', name, version, arch: 'amd64', license,
  purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-12`,
  locations: ['/var/lib/dpkg/status'], layer, removedIn: removed?.[0] ?? null, replacedBy: removed?.[1] ?? null,
});
const pypi = (name: string, version: string, license: string, layer: number, removed?: [number, string | null]): PackageRecord => ({
  ecosystem: 'pypi', name, version, arch: null, license, purl: `pkg:pypi/${name.toLowerCase()}@${version}`,
  locations: [`${SITE}/${name.toLowerCase()}-${version}.dist-info/METADATA`], layer, removedIn: removed?.[0] ?? null, replacedBy: removed?.[1] ?? null,
});
const go = (name: string, version: string, license: string | null): PackageRecord => ({
  ecosystem: 'golang', name, version, arch: 'amd64', license, purl: `pkg:golang/${name}@${version}`,
  locations: ['/usr/local/bin/gosu'], layer: 3, removedIn: null, replacedBy: null,
});

export const WEBAPP_ANALYSIS: AnalysisResult = {
  format: 1,
  dive: dive(WEBAPP_LAYERS, [
    { count: 2, sizeBytes: 48_000_000, file: '/app/data/model.bin' },
    { count: 2, sizeBytes: 8_790_000, file: APT_LISTS },
    { count: 2, sizeBytes: 3_020_000, file: '/var/cache/debconf/templates.dat' },
    { count: 2, sizeBytes: 1_377_568, file: '/usr/lib/x86_64-linux-gnu/libssl.so.3' },
    { count: 2, sizeBytes: 42_000, file: '/var/log/apt/term.log' },
    { count: 2, sizeBytes: 10_200, file: `${SITE}/requests/__init__.py` },
    { count: 2, sizeBytes: len(DPKG_1) + len(DPKG_2), file: '/var/lib/dpkg/status' },
    { count: 2, sizeBytes: len(KEY), file: '/root/.ssh' },
    { count: 2, sizeBytes: 2 * len(APP_PY), file: '/app/app.py' },
  ]),
  waste: waste(WEBAPP_LAYERS, [
    { path: '/app/data/model.bin', layer: 3, size: 24_000_000, supersededIn: 4, how: 'metadata' },
    { path: APT_LISTS, layer: 2, size: 8_790_000, supersededIn: 4, how: 'deleted' },
    { path: '/var/cache/debconf/templates.dat', layer: 1, size: 1_500_000, supersededIn: 2, how: 'overwritten' },
    { path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', layer: 1, size: 687_456, supersededIn: 2, how: 'overwritten' },
    { path: '/var/log/apt/term.log', layer: 2, size: 42_000, supersededIn: 4, how: 'opaque' },
    { path: `${SITE}/requests/__init__.py`, layer: 3, size: 5_000, supersededIn: 5, how: 'overwritten' },
    { path: '/var/lib/dpkg/status', layer: 1, size: len(DPKG_1), supersededIn: 2, how: 'overwritten' },
    { path: '/root/.ssh/id_rsa', layer: 3, size: len(KEY), supersededIn: 4, how: 'deleted' },
    { path: '/app/app.py', layer: 3, size: len(APP_PY), supersededIn: 4, how: 'metadata' },
    { path: `${SITE}/requests-2.31.0.dist-info/METADATA`, layer: 3, size: len(meta('requests', '2.31.0', 'Apache 2.0')), supersededIn: 5, how: 'deleted' },
    { path: `${SITE}/setuptools-68.0.0.dist-info/METADATA`, layer: 3, size: len(meta('setuptools', '68.0.0', 'MIT')), supersededIn: 5, how: 'deleted' },
  ]),
  sensitive: [
    { path: '/app/.env', layer: 3, visible: true, hiddenIn: null, rule: 'aws-access-key-id', reason: 'AWS access key id AKIA…MPLE', size: len(ENV) },
    { path: '/root/.ssh/id_rsa', layer: 3, visible: false, hiddenIn: 4, rule: 'pem-private-key', reason: 'PEM private key (OpenSSH)', size: len(KEY) },
  ],
  packages: [
    deb('base-files', '12.4+deb12u5', 'GPL-2.0-or-later', 1), deb('libc6', '2.36-9+deb12u4', 'LGPL-2.1-or-later', 1),
    deb('bash', '5.2.15-2+b2', 'GPL-3.0-or-later', 1), deb('libssl3', '3.0.11-1~deb12u2', 'Apache-2.0', 1, [2, '3.0.13-1~deb12u1']),
    deb('libssl3', '3.0.13-1~deb12u1', 'Apache-2.0', 2), deb('python3.11', '3.11.2-6', 'PSF-2.0', 2),
    deb('curl', '7.88.1-10+deb12u5', 'curl', 2), deb('libcurl4', '7.88.1-10+deb12u5', 'curl', 2),
    pypi('requests', '2.31.0', 'Apache-2.0', 3, [5, '2.32.3']), pypi('Flask', '3.0.0', 'BSD-3-Clause', 3),
    pypi('setuptools', '68.0.0', 'MIT', 3, [5, null]), pypi('requests', '2.32.3', 'Apache-2.0', 5),
    go('github.com/tianon/gosu', 'v1.17', 'Apache-2.0'), go('stdlib', 'go1.21.5', 'BSD-3-Clause'),
  ],
  warnings: [{
    path: `${SITE}/broken-0.1.dist-info/METADATA`, layer: 3,
    message: 'Not a Python METADATA file: it has no Name or Version header. Its package is left out of the list.',
  }],
  distro: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  phases: ALL_PHASES,
};
export const WEBAPP_ANALYSIS_STATE = done(WEBAPP_ANALYSIS);
