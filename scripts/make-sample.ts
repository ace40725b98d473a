// Writes public/sample.tar: the small multi-layer image behind "Try the sample image". A docker
// save archive (manifest.json + config + gzip layers, real digests and diff_ids) whose layers show
// what the inspector can do: whiteouts, an opaque directory, hardlinks, symlinks, setuid, a device,
// xattrs, an image file and a text file larger than the preview. Deterministic: same bytes each run.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, deflateSync } from 'node:zlib';
import { encodeHeader, endOfArchive, padding, type WriteEntry } from '../src/core/tar/writer.ts';

const T0 = 1_717_200_000; // 2024-06-01, then one day per layer
const enc = new TextEncoder();

type Entry = Omit<WriteEntry, 'mode' | 'uid' | 'gid' | 'mtime'> & Partial<WriteEntry> & { content?: Uint8Array | string };

function tar(entries: Entry[], mtime: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const content = typeof e.content === 'string' ? enc.encode(e.content) : e.content;
    const defMode = e.kind === 'dir' ? 0o755 : e.kind === 'symlink' ? 0o777 : 0o644;
    const w: WriteEntry = { ...e, mode: e.mode ?? defMode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? mtime, size: content?.length ?? 0 };
    parts.push(encodeHeader(w));
    if (content && e.kind === 'file') {
      parts.push(content);
      parts.push(new Uint8Array(padding(content.length)));
    }
  }
  parts.push(endOfArchive());
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A deterministic pseudo-random generator, so the "binaries" and text are the same every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

function fakeElf(size: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  return b;
}

function words(bytes: number): string {
  const r = rng(7);
  const vocab = ['layer', 'image', 'digest', 'whiteout', 'opaque', 'tar', 'gzip', 'manifest', 'config', 'rootfs',
    'inode', 'symlink', 'hardlink', 'mode', 'owner', 'history', 'platform', 'index', 'blob', 'diff'];
  let out = '';
  let line = 1;
  while (out.length < bytes) {
    const n = 6 + Math.floor(r() * 8);
    out += `${String(line++).padStart(5, ' ')}  ` + Array.from({ length: n }, () => vocab[Math.floor(r() * vocab.length)]).join(' ') + '\n';
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A 48×48 PNG: the Strata mark (three stacked bars) on transparent. */
function png(): Uint8Array {
  const w = 48, h = 48;
  const raw = new Uint8Array(h * (1 + w * 4));
  const colors = [[0x44, 0x93, 0xf8], [0x3f, 0xb9, 0x50], [0xd2, 0x99, 0x22]];
  for (let y = 0; y < h; y++) {
    raw[y * (1 + w * 4)] = 0;
    const band = Math.floor((y - 6) / 12);
    const inBar = y >= 6 && y < 42 && (y - 6) % 12 < 9;
    for (let x = 0; x < w; x++) {
      const o = y * (1 + w * 4) + 1 + x * 4;
      if (inBar && x >= 6 + band * 4 && x < 42 - band * 4) {
        raw.set([...colors[band], 0xff], o);
      }
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const td = concat([enc.encode(type), data]);
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    out.set(td, 4);
    dv.setUint32(8 + data.length, crc32(td));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w); dv.setUint32(4, h);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return concat([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))]);
}

const busybox = fakeElf(24_000, 1);
const nginx = fakeElf(16_000, 2);

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

interface LayerSpec { createdBy: string; entries: Entry[] }
interface HistorySpec { createdBy: string; empty?: boolean }

const layers: LayerSpec[] = [
  {
    createdBy: '/bin/sh -c #(nop) ADD file:3c6b1e0d2a in / ',
    entries: [
      { name: './', kind: 'dir' },
      { name: 'bin', kind: 'dir' },
      { name: 'bin/busybox', kind: 'file', mode: 0o755, content: busybox },
      { name: 'bin/ls', kind: 'hardlink', linkname: 'bin/busybox', mode: 0o755 },
      { name: 'bin/cat', kind: 'hardlink', linkname: 'bin/busybox', mode: 0o755 },
      { name: 'bin/sh', kind: 'symlink', linkname: 'busybox' },
      { name: 'dev', kind: 'dir' },
      { name: 'dev/null', kind: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
      { name: 'etc', kind: 'dir' },
      { name: 'etc/hostname', kind: 'file', content: 'sample\n' },
      { name: 'etc/os-release', kind: 'file', content: 'NAME="Strata Sample Linux"\nID=strata\nVERSION_ID=1.0\nPRETTY_NAME="Strata Sample Linux 1.0"\n' },
      { name: 'etc/passwd', kind: 'file', content: PASSWD },
      { name: 'etc/group', kind: 'file', content: GROUP },
      { name: 'home', kind: 'dir' },
      { name: 'root', kind: 'dir', mode: 0o700 },
      { name: 'tmp', kind: 'dir', mode: 0o1777 },
      { name: 'usr', kind: 'dir' },
      { name: 'usr/bin', kind: 'dir' },
      { name: 'usr/bin/env', kind: 'symlink', linkname: '../../bin/busybox' },
      { name: 'usr/bin/passwd', kind: 'file', mode: 0o4755, content: fakeElf(3000, 3) },
      { name: 'usr/share', kind: 'dir' },
      { name: 'usr/share/doc', kind: 'dir' },
      { name: 'usr/share/doc/README', kind: 'file', content: 'Documentation that a later layer removes to save space.\n' },
      { name: 'usr/share/doc/busybox', kind: 'dir' },
      { name: 'usr/share/doc/busybox/LICENSE', kind: 'file', content: 'GPL-2.0-only\n' },
      { name: 'var', kind: 'dir' },
      { name: 'var/log', kind: 'dir' },
    ],
  },
  {
    createdBy: '/bin/sh -c addgroup -S app && adduser -S -G app -h /home/app app && apk add --no-cache nginx',
    entries: [
      { name: 'etc/', kind: 'dir' },
      { name: 'etc/passwd', kind: 'file', content: PASSWD + 'app:x:1000:1000::/home/app:/bin/sh\nnginx:x:101:101:nginx:/var/lib/nginx:/sbin/nologin\n' },
      { name: 'etc/group', kind: 'file', content: GROUP + 'app:x:1000:\nnginx:x:101:\n' },
      { name: 'etc/nginx', kind: 'dir' },
      { name: 'etc/nginx/nginx.conf', kind: 'file', content: 'user nginx;\nworker_processes auto;\n\nevents { worker_connections 1024; }\n\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n' },
      { name: 'etc/nginx/conf.d', kind: 'dir' },
      { name: 'etc/nginx/conf.d/default.conf', kind: 'file', content: 'server {\n    listen 80;\n    root /app;\n    index index.html;\n}\n' },
      { name: 'home/app', kind: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
      { name: 'usr/sbin', kind: 'dir' },
      { name: 'usr/sbin/nginx', kind: 'file', mode: 0o755, content: nginx, xattrs: { 'security.capability': new Uint8Array([1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } },
      { name: 'var/lib', kind: 'dir' },
      { name: 'var/lib/nginx', kind: 'dir', uid: 101, gid: 101 },
      { name: 'var/log/nginx', kind: 'dir', uid: 101, gid: 101 },
      { name: 'var/log/nginx/error.log', kind: 'file', uid: 101, gid: 101, content: '2024/06/02 12:00:00 [notice] 1#1: nginx/1.26.1\n' },
      { name: 'var/log/nginx/build.log', kind: 'file', uid: 101, gid: 101, content: 'configure: ok\n' },
    ],
  },
  {
    createdBy: 'COPY app/ /app/ # buildkit',
    entries: [
      { name: 'app', kind: 'dir', uid: 1000, gid: 1000 },
      { name: 'app/index.html', kind: 'file', uid: 1000, gid: 1000, content: '<!doctype html>\n<title>Hello from the sample image</title>\n<h1>It works</h1>\n<script src="app.js"></script>\n' },
      { name: 'app/app.js', kind: 'file', uid: 1000, gid: 1000, content: "document.querySelector('h1').textContent += ' — served by nginx';\n" },
      { name: 'app/static', kind: 'dir', uid: 1000, gid: 1000 },
      { name: 'app/static/logo.png', kind: 'file', uid: 1000, gid: 1000, content: png() },
      { name: 'app/static/logo.svg', kind: 'file', uid: 1000, gid: 1000, content: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect x="6" y="6" width="36" height="9" fill="#4493f8"/><rect x="10" y="18" width="28" height="9" fill="#3fb950"/><rect x="14" y="30" width="20" height="9" fill="#d29922"/></svg>\n' },
      { name: 'app/data', kind: 'dir', uid: 1000, gid: 1000 },
      { name: 'app/data/words.txt', kind: 'file', uid: 1000, gid: 1000, content: words(300_000) },
      { name: 'app/current', kind: 'symlink', linkname: '/app/data/words.txt' },
      { name: 'etc/.wh.hostname', kind: 'file' },
    ],
  },
  {
    createdBy: '/bin/sh -c rm -rf /usr/share/doc /var/log/nginx/* && chmod 0755 /app/app.js && ln -sf /dev/stdout /var/log/nginx/access.log',
    entries: [
      { name: 'usr/share/.wh.doc', kind: 'file' },
      { name: 'var/log/nginx', kind: 'dir', uid: 101, gid: 101 },
      { name: 'var/log/nginx/.wh..wh..opq', kind: 'file' },
      { name: 'var/log/nginx/access.log', kind: 'symlink', linkname: '/dev/stdout' },
      { name: 'app/app.js', kind: 'file', mode: 0o755, uid: 1000, gid: 1000, content: "document.querySelector('h1').textContent += ' — served by nginx';\n" },
      { name: 'etc/hostname', kind: 'file', content: 'sample-app\n' },
    ],
  },
];

const history: HistorySpec[] = [
  { createdBy: layers[0].createdBy },
  { createdBy: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', empty: true },
  { createdBy: '/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=strata-sample', empty: true },
  { createdBy: layers[1].createdBy },
  { createdBy: 'ENV APP_HOME=/app', empty: true },
  { createdBy: 'WORKDIR /app', empty: true },
  { createdBy: layers[2].createdBy },
  { createdBy: layers[3].createdBy },
  { createdBy: 'EXPOSE map[80/tcp:{}]', empty: true },
  { createdBy: 'ENTRYPOINT ["nginx" "-g" "daemon off;"]', empty: true },
];

export function makeSample(): Uint8Array {
  const blobs: { name: string; data: Uint8Array }[] = [];
  const diffIds: string[] = [];
  const layerNames: string[] = [];
  layers.forEach((l, i) => {
    const raw = tar(l.entries, T0 + i * 86_400);
    const gz = gzipSync(raw, { level: 9 });
    diffIds.push(`sha256:${sha256(raw)}`);
    const name = `blobs/sha256/${sha256(gz)}`;
    layerNames.push(name);
    blobs.push({ name, data: gz });
  });
  let layerIndex = 0;
  const config = {
    architecture: 'amd64', os: 'linux', created: new Date((T0 + 3 * 86_400) * 1000).toISOString(),
    config: {
      User: 'nginx', WorkingDir: '/app', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/app'],
      Entrypoint: ['nginx', '-g', 'daemon off;'], Cmd: null, ExposedPorts: { '80/tcp': {} }, Volumes: { '/var/lib/nginx': {} },
      Labels: { 'org.opencontainers.image.title': 'strata-sample', 'org.opencontainers.image.description': 'A small multi-layer image for trying Strata' },
      StopSignal: 'SIGQUIT',
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: history.map((h) => {
      const created = new Date((T0 + Math.min(layerIndex, 3) * 86_400) * 1000).toISOString();
      if (!h.empty) layerIndex++;
      return { created, created_by: h.createdBy, ...(h.empty ? { empty_layer: true } : {}) };
    }),
  };
  const configBytes = enc.encode(JSON.stringify(config, null, 2));
  const configName = `blobs/sha256/${sha256(configBytes)}`;
  blobs.push({ name: configName, data: configBytes });
  const manifest = enc.encode(JSON.stringify([{ Config: configName, RepoTags: ['strata/sample:latest'], Layers: layerNames }], null, 2));
  const outer: Entry[] = [
    { name: 'blobs', kind: 'dir' },
    { name: 'blobs/sha256', kind: 'dir' },
    ...blobs.map((b): Entry => ({ name: b.name, kind: 'file', content: b.data })),
    { name: 'manifest.json', kind: 'file', content: manifest },
  ];
  return tar(outer, T0 + 3 * 86_400);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(dirname(fileURLToPath(import.meta.url)), '../public/sample.tar');
  mkdirSync(dirname(out), { recursive: true });
  const bytes = makeSample();
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes)`);
}
