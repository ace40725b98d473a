// Writes public/sample.tar: a small OCI image archive made only from our own content, whose layers
// show every kind of change Strata displays (added, modified, deleted file and directory, opaque
// directory, symlink, hardlink within and across layers, chmod-only and chown-only changes, an
// empty-layer history entry, setuid, a device, xattrs, a PNG, a binary and a long text file), and
// what the Analysis view looks for: Debian, Python and npm packages (one removed and one upgraded by
// a later layer), a private key that a later layer deletes but that still ships, an .env file with
// a token, and a build cache that wastes space. The key and tokens are made up here; they unlock nothing.
// Run: npm run sample
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { ociArchive, sha, tar, type Spec } from './image-writer.ts';

const T1 = 1767225600; // 2026-01-01
const T2 = T1 + 86400, T3 = T2 + 86400;

/** a tiny PNG (generated, ours): a 32×32 gradient with the Strata colours */
function png(): Uint8Array {
  const w = 32, h = 32;
  const raw = new Uint8Array((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      const band = Math.floor(y / 8);
      raw[o] = [46, 160, 67, 218][band] + x; raw[o + 1] = [160, 120, 67, 54][band]; raw[o + 2] = [67, 210, 230, 51][band];
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b: Uint8Array) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    dv.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w); dv.setUint32(4, h); ihdr[8] = 8; ihdr[9] = 2;
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

/** deterministic pseudo-random bytes: a "binary" for the hex view */
function binary(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x2545f491;
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // looks like an ELF header to the eye
  for (let i = 7; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
  return out;
}

/** deterministic pseudo-random text in an alphabet: a made-up key or token */
function madeUp(n: number, seed: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let x = seed, out = '';
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out += alphabet[(x >>> 0) % alphabet.length]; }
  return out;
}

const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${madeUp(280, 7, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/').match(/.{1,70}/g)!.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;

/** a dpkg status stanza */
const deb = (name: string, version: string, arch = 'amd64', source?: string) =>
  `Package: ${name}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 100\nMaintainer: Strata sample <sample@example.invalid>\nArchitecture: ${arch}\n${source ? `Source: ${source}\n` : ''}Version: ${version}\nDescription: ${name} (sample entry)\n`;
const DPKG_BASE = [
  deb('base-files', '12.4+deb12u5'), deb('bash', '5.2.15-2+b2'), deb('ca-certificates', '20230311', 'all'),
  deb('curl', '7.88.1-10+deb12u5'), deb('libc6', '2.36-9+deb12u7', 'amd64', 'glibc'), deb('libssl3', '3.0.11-1~deb12u2', 'amd64', 'openssl'),
  deb('zlib1g', '1:1.2.13.dfsg-1', 'amd64', 'zlib'),
];
const copyright = (licence: string) => `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: the authors\nLicense: ${licence}\n`;
const pyMeta = (name: string, version: string, licence: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nLicense: ${licence}\nSummary: ${name} (sample entry)\n`;
const npmPkg = (name: string, version: string, licence: string) => JSON.stringify({ name, version, license: licence, description: `${name} (sample entry)` }, null, 2) + '\n';

const dir = (name: string, extra: Partial<Spec> = {}): Spec => ({ name, kind: 'dir', mtime: T1, ...extra });
const file = (name: string, data: string | Uint8Array, extra: Partial<Spec> = {}): Spec => ({ name, data, mtime: T1, ...extra });

const README = `# Strata sample image\n\nEvery layer of this image shows one kind of change. Open the layers on the left\nand switch between "this layer's changes" and "all layers up to here".\n`;

const base = tar([
  dir('bin'), file('bin/hello', '#!/bin/sh\necho "hello from the Strata sample"\n', { mode: 0o755 }),
  dir('etc'), file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\napp:x:101:101:app:/home/app:/bin/sh\n'),
  file('etc/group', 'root:x:0:\napp:x:101:\n'), file('etc/os-release', 'NAME="Strata sample"\nID=strata\nVERSION_ID=1\n'),
  file('etc/motd', 'Welcome! This file is deleted in layer 3.\n'),
  dir('etc/app'), file('etc/app/config.yaml', 'listen: 8080\nlog_level: info\n'),
  dir('home'), dir('home/app'), dir('root', { mode: 0o700 }), dir('tmp', { mode: 0o1777 }),
  dir('usr'), dir('usr/bin'), dir('usr/share'), dir('usr/share/doc'), dir('usr/share/doc/strata'), file('usr/share/doc/strata/README.md', README),
  dir('opt'), dir('opt/tool'), dir('opt/tool/bin'), file('opt/tool/bin/tool', binary(3000), { mode: 0o755 }),
  dir('srv'), dir('srv/www'), file('srv/www/index.html', '<!doctype html>\n<h1>Hello</h1>\n<script>alert("never run by Strata")</script>\n'),
  file('srv/www/logo.png', png()),
  dir('var'), dir('var/cache'), dir('var/cache/app'), file('var/cache/app/a.cache', 'a'), file('var/cache/app/b.cache', 'b'),
  dir('var/lib'), dir('var/lib/app'), dir('var/lib/app/old'), file('var/lib/app/old/state.db', 'old state'), file('var/lib/app/old/journal', 'old journal'),
  dir('var/lib/dpkg'), file('var/lib/dpkg/status', DPKG_BASE.join('\n')),
  dir('usr/share/doc/libssl3'), file('usr/share/doc/libssl3/copyright', copyright('Apache-2.0')),
  dir('usr/share/doc/zlib1g'), file('usr/share/doc/zlib1g/copyright', copyright('Zlib')),
  dir('usr/share/doc/curl'), file('usr/share/doc/curl/copyright', copyright('curl')),
  dir('root/.ssh', { mode: 0o700 }), file('root/.ssh/id_ed25519', KEY, { mode: 0o600 }), // deleted in layer 3, but it ships
  dir('usr/lib'), dir('usr/lib/python3'), dir('usr/lib/python3/dist-packages'),
  dir('usr/lib/python3/dist-packages/requests-2.28.1.dist-info'), file('usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA', pyMeta('requests', '2.28.1', 'Apache 2.0')),
  dir('usr/lib/python3/dist-packages/idna-3.3.dist-info'), file('usr/lib/python3/dist-packages/idna-3.3.dist-info/METADATA', pyMeta('idna', '3.3', 'BSD-3-Clause')),
]);

/** a text file larger than the preview window (~300 KB), so the UI shows it in part */
function changelog(): string {
  const lines: string[] = [];
  for (let v = 440; v > 0; v--) lines.push(`## 1.${v}.0\n\n- Faster layer decoding (${v} ms saved)\n- Fixed whiteout handling in case ${v}\n- ${'Notes. '.repeat(80)}\n`);
  return lines.join('\n');
}

const app = tar([
  dir('app', { mtime: T2 }),
  file('app/server.js', 'import http from "node:http";\nhttp.createServer((q, r) => r.end("ok")).listen(8080);\n', { mtime: T2 }),
  { name: 'app/server-copy.js', kind: 'hardlink', linkname: 'app/server.js', mtime: T2 },
  { name: 'usr/share/doc/strata/LICENSE-link.md', kind: 'hardlink', linkname: 'usr/share/doc/strata/README.md', mtime: T2 },
  { name: 'usr/bin/server', kind: 'symlink', linkname: '/app/server.js', mtime: T2 },
  { name: 'usr/bin/hello', kind: 'symlink', linkname: '../../bin/hello', mtime: T2 },
  file('etc/app/config.yaml', 'listen: 8080\nlog_level: debug\nworkers: 4\n', { mtime: T2 }),
  file('usr/share/doc/strata/CHANGELOG.md', changelog(), { mtime: T2 }),
  file('app/healthcheck', '#!/bin/sh\nexit 0\n', { mtime: T2, mode: 0o4755 }), // setuid
  file('app/data.bin', binary(600), { mtime: T2, xattrs: { 'user.origin': new TextEncoder().encode('strata-sample'), 'security.selinux': new TextEncoder().encode('system_u:object_r:container_file_t:s0\0') } }),
  dir('dev', { mtime: T2 }), { name: 'dev/null', kind: 'char', devmajor: 1, devminor: 3, mode: 0o666, mtime: T2 },
  file('app/.env', `APP_ENV=production\nGITHUB_TOKEN=ghp_${madeUp(36, 11)}\n`, { mtime: T2, mode: 0o600 }),
  file('app/package.json', npmPkg('strata-sample-app', '1.0.0', 'MIT'), { mtime: T2 }),
  dir('app/node_modules', { mtime: T2 }),
  dir('app/node_modules/ms', { mtime: T2 }), file('app/node_modules/ms/package.json', npmPkg('ms', '2.1.3', 'MIT'), { mtime: T2 }),
  dir('app/node_modules/debug', { mtime: T2 }), file('app/node_modules/debug/package.json', npmPkg('debug', '4.3.4', 'MIT'), { mtime: T2 }),
  dir('app/node_modules/@types', { mtime: T2 }), dir('app/node_modules/@types/node', { mtime: T2 }),
  file('app/node_modules/@types/node/package.json', npmPkg('@types/node', '20.11.5', 'MIT'), { mtime: T2 }),
  dir('var/cache/app/build', { mtime: T2 }), file('var/cache/app/build/objects.pack', binary(200_000), { mtime: T2 }), // removed by the opaque dir of layer 3
]);

const cleanup = tar([
  file('etc/.wh.motd', '', { mtime: 0, mode: 0 }),
  file('var/lib/app/.wh.old', '', { mtime: 0, mode: 0 }),
  dir('var/cache/app', { mtime: T3 }), file('var/cache/app/.wh..wh..opq', '', { mtime: T3 }), file('var/cache/app/fresh.cache', 'rebuilt', { mtime: T3 }),
  file('etc/app/config.yaml', 'listen: 8080\nlog_level: debug\nworkers: 4\n', { mtime: T2, mode: 0o600 }), // chmod only
  dir('home/app', { mtime: T1, uid: 101, gid: 101, mode: 0o750 }), // chown + chmod of a directory
  file('srv/www/index.html', '<!doctype html>\n<h1>Hello</h1>\n<script>alert("never run by Strata")</script>\n', { uid: 101, gid: 101 }), // chown only
  file('root/.ssh/.wh.id_ed25519', '', { mtime: 0, mode: 0 }),
  // apt-get remove curl && apt-get install libssl3 (a newer one): the status file is written again
  file('var/lib/dpkg/status', DPKG_BASE.filter((s) => !s.startsWith('Package: curl\n')).map((s) => s.replace('3.0.11-1~deb12u2', '3.0.13-1~deb12u1')).join('\n'), { mtime: T3 }),
  { name: 'usr/share/doc/.wh.curl', kind: 'file', data: '', mtime: 0, mode: 0 },
]);

const layers = [base, app, cleanup];
const config = {
  created: new Date(T3 * 1000).toISOString(), architecture: 'amd64', os: 'linux',
  config: {
    User: '101:101', WorkingDir: '/app', Env: ['PATH=/usr/bin:/bin', 'APP_ENV=production'],
    Entrypoint: ['/usr/bin/server'], Cmd: ['--port', '8080'], ExposedPorts: { '8080/tcp': {} },
    Labels: { 'org.opencontainers.image.title': 'strata-sample', 'org.opencontainers.image.description': 'Every kind of layer change, in three layers' },
  },
  rootfs: { type: 'layers', diff_ids: layers.map(sha) },
  history: [
    { created: new Date(T1 * 1000).toISOString(), created_by: 'ADD rootfs.tar / # base: files, dirs, a PNG, a binary', comment: 'base' },
    { created: new Date(T2 * 1000).toISOString(), created_by: 'COPY app/ /app/ && ln -s /app/server.js /usr/bin/server && ln … # symlinks, hardlinks, a modified config' },
    { created: new Date(T2 * 1000).toISOString(), created_by: 'ENV APP_ENV=production', empty_layer: true },
    { created: new Date(T3 * 1000).toISOString(), created_by: 'RUN rm /etc/motd /root/.ssh/id_ed25519 && rm -r /var/lib/app/old && rebuild-cache && chmod 600 config.yaml && chown 101:101 … && apt-get remove curl && apt-get install libssl3 # deletes, opaque dir, chmod/chown, packages' },
    { created: new Date(T3 * 1000).toISOString(), created_by: 'EXPOSE 8080/tcp', empty_layer: true },
  ],
};

const out = join(import.meta.dirname, '../public/sample.tar');
writeFileSync(out, ociArchive({ layers, config, refName: 'strata-sample:1.0' }));
console.log(`wrote ${out}`);
