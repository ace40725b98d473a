// What the fuzzer starts from: every shared fixture (real-tool images in four formats, peer
// projects' test images), two images built here with every tar dialect the reader knows (GNU
// long names, base-256 numbers, PAX xattrs and ids, devices, links, whiteouts) plus the package
// databases, os-release and secrets the analysis reads, and the first of those layers as a
// gzip-wrapped plain rootfs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { dockerArchive, ociArchive, tar } from '../helpers/build.ts';
import { FIXTURES } from '../helpers/cli.ts';
import type { Fixture } from './mutate.ts';
import { BLOCK, base256, concat, fixChecksum, header, metaEntry, octal, putField } from './tar-blocks.ts';

const enc = new TextEncoder();

function file(name: string, data: string, extra: Partial<Record<'uid' | 'size', Uint8Array>> = {}): Uint8Array {
  const body = enc.encode(data);
  const h = header({ name, size: octal(body.length, 12) });
  for (const [k, v] of Object.entries(extra)) putField(h, 0, k as 'uid' | 'size', v);
  fixChecksum(h);
  return concat([h, body, new Uint8Array((BLOCK - (body.length % BLOCK)) % BLOCK)]);
}

/** Layer 1: packages, secrets, links, devices, long names in three dialects, big ids. */
function baseLayer(): Uint8Array {
  const std = tar([
    { name: 'etc/', kind: 'dir' },
    { name: 'etc/os-release', data: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
    { name: 'var/lib/dpkg/status', data: 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\nPackage: bash\nStatus: install ok installed\nVersion: 5.2.15-2\nArchitecture: amd64\n' },
    { name: 'lib/apk/db/installed', data: 'P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\n' },
    { name: 'app/.env', data: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' },
    { name: 'app/node_modules/left-pad/package.json', data: '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}' },
    { name: 'usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA', data: 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n' },
    { name: 'bin/tool', data: 'x'.repeat(3000), mode: 0o755 },
    { name: 'bin/hard', kind: 'hardlink', linkname: 'bin/tool' },
    { name: 'bin/sh', kind: 'symlink', linkname: 'tool' },
    { name: 'dev/null', kind: 'char', devmajor: 1, devminor: 3 },
    { name: 'run/fifo', kind: 'fifo' },
    { name: 'x/' + 'deep/'.repeat(30) + 'file', data: 'a long name through a PAX path record' },
    { name: 'xattr', data: 'x', xattrs: { 'user.a': Uint8Array.of(1, 2, 3) } },
    { name: 'big-ids', data: 'u', uid: 2 ** 24, gid: 2 ** 22, mtime: 1.7e9 + 0.25 },
  ], { eof: false });
  const gnuName = 'gnu/' + 'long/'.repeat(40) + 'name';
  const gnu = concat([metaEntry('L', enc.encode(gnuName + '\0')), file('gnu/short', 'gnu long name')]);
  const gnuLink = concat([metaEntry('K', enc.encode(gnuName + '\0')), (() => {
    const h = header({ name: 'gnu/link', typeflag: '2', linkname: 'gnu/long' });
    return h;
  })()]);
  const b256 = file('base256', 'big', { uid: base256(2n ** 30n, 8), size: base256(3n, 12) });
  return concat([std, gnu, gnuLink, b256, new Uint8Array(2 * BLOCK)]);
}

/** Layer 2: an opaque dir, whiteouts, a package removed, a file type change. */
function upperLayer(): Uint8Array {
  return tar([
    { name: 'app/.wh..wh..opq', data: '' },
    { name: 'app/new', data: 'after the opaque marker' },
    { name: 'etc/.wh.os-release', data: '' },
    { name: 'var/lib/dpkg/status', data: 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u1\nArchitecture: amd64\n' },
    { name: 'bin/sh', data: 'now a file' },
    { name: 'run/fifo/child', data: 'fifo became a directory' },
  ]);
}

function fixture(name: string, bytes: Uint8Array): Fixture {
  const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return { name, bytes, wrapper: gz ? 'gzip' : 'none', inner: gz ? new Uint8Array(gunzipSync(bytes)) : bytes };
}

let cache: Fixture[] | null = null;

/** Every fixture, in a fixed order (a seed means the same cases on every machine with these files). */
export function fixtures(): Fixture[] {
  if (cache) return cache;
  const out: Fixture[] = [];
  for (const dir of ['generated', 'peers']) {
    for (const f of readdirSync(join(FIXTURES, dir)).sort()) {
      if (/\.tar(\.gz)?$/.test(f)) out.push(fixture(`${dir}/${f}`, new Uint8Array(readFileSync(join(FIXTURES, dir, f)))));
    }
  }
  const layers = [baseLayer(), upperLayer()];
  out.push(fixture('built/dialects.docker.tar', dockerArchive({ layers })));
  out.push(fixture('built/dialects.oci.tar', ociArchive({ layers })));
  // a plain rootfs `| gzip`: the browser imports it from its gzip as one layer, judged by its first member
  out.push(fixture('built/rootfs.tar.gz', new Uint8Array(gzipSync(layers[0]))));
  return (cache = out);
}
