// Tar reader and writer: chunk replay, every header dialect, broken input, round trips.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { TarReader, type TarEntry } from '../../src/core/tar/reader.ts';
import { encodeHeader, encodeHeaderInto, type WriteEntry } from '../../src/core/tar/writer.ts';
import { tarRecords } from '../../src/core/export/tar-export.ts';
import { dockerArchive, tar, type Spec } from '../helpers/build.ts';
import { importBytes } from '../helpers/run.ts';

const SHARED = join(import.meta.dirname, '../../../shared/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'strata-tar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function read(bytes: Uint8Array, chunk = bytes.length): { entries: TarEntry[]; data: Map<string, string> } {
  const entries: TarEntry[] = [];
  const data = new Map<string, string>();
  let cur = '';
  const dec = new TextDecoder();
  const r = new TarReader({
    entry(e) { entries.push(e); cur = e.name; data.set(cur, ''); },
    data(c) { data.set(cur, data.get(cur) + dec.decode(c, { stream: true })); },
  });
  for (let i = 0; i < bytes.length; i += chunk) r.push(bytes.subarray(i, i + chunk));
  r.finish();
  return { entries, data };
}

/** GNU tar / Python-made archives exercising every dialect */
function nativeTars(): [string, Uint8Array][] {
  const src = join(tmp, 'src');
  execFileSync('bash', ['-c', `
    set -e; mkdir -p ${src}/d; cd ${src}
    printf hello > d/small; head -c 70000 /dev/urandom > d/big
    long=$(printf 'n%.0s' $(seq 1 150)); printf x > "d/$long"
    ln -s "d/$long" lnk; ln d/small d/hard; mkfifo fifo
    tar --format=gnu -cf ${tmp}/gnu.tar d lnk fifo
    tar --format=posix -cf ${tmp}/posix.tar d lnk fifo
    tar --format=ustar -cf ${tmp}/ustar.tar d/small d/big fifo
  `]);
  execFileSync('python3', ['-c', `
import tarfile, io
with tarfile.open('${tmp}/py-gnu.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo('big-ids'); i.uid = 4294967294; i.gid = 3000000000; i.size = 3; i.mtime = 1700000000
    t.addfile(i, io.BytesIO(b'abc'))
with tarfile.open('${tmp}/py-pax.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo('x' * 120 + '/ünï'); i.uid = 5000000; i.size = 2; i.mtime = 1700000000.5
    i.pax_headers = {'SCHILY.xattr.user.bin': '\\udcff\\x00ok'}
    t.addfile(i, io.BytesIO(b'hi'))
`]);
  return ['gnu', 'posix', 'ustar', 'py-gnu', 'py-pax'].map((n) => [n, new Uint8Array(readFileSync(join(tmp, `${n}.tar`)))]);
}

const natives = nativeTars();

describe('reader', () => {
  test.each(natives)('%s: identical results for chunk sizes 1, 7, 321, 65536', (_n, bytes) => {
    const whole = read(bytes);
    expect(whole.entries.length).toBeGreaterThan(0);
    for (const size of [1, 7, 321, 65536]) expect(read(bytes, size)).toEqual(whole);
  });

  test('GNU long names, hardlinks, symlinks, fifos', () => {
    const { entries } = read(natives[0][1]);
    const long = 'd/' + 'n'.repeat(150);
    expect(entries.map((e) => [e.name, e.kind])).toEqual(expect.arrayContaining([
      [long, 'file'], ['lnk', 'symlink'], ['fifo', 'fifo'], ['d/hard', 'hardlink'],
    ]));
    expect(entries.find((e) => e.name === 'lnk')!.linkname).toBe(long);
  });

  test('base-256 ids (GNU) and PAX ids, long UTF-8 paths, fractional mtime, binary xattrs', () => {
    const gnu = read(natives[3][1]).entries[0];
    expect([gnu.uid, gnu.gid]).toEqual([4294967294, 3000000000]);
    const pax = read(natives[4][1]).entries[0];
    expect(pax.name).toBe('x'.repeat(120) + '/ünï');
    expect(pax.uid).toBe(5000000);
    expect(pax.mtime).toBe(1700000000.5);
    expect(Array.from(pax.xattrs!['user.bin'])).toEqual([0xff, 0, 0x6f, 0x6b]);
  });

  test('offsets point at the content in the stream', () => {
    const bytes = natives[1][1];
    for (const e of read(bytes).entries.filter((x) => x.name === 'd/small')) {
      expect(new TextDecoder().decode(bytes.subarray(e.dataOffset, e.dataOffset + e.size))).toBe('hello');
    }
  });

  test('stops at the end-of-archive marker (eStargz TOC after it is ignored)', () => {
    const bytes = new Uint8Array([...tar([{ name: 'a', data: 'A' }]), ...tar([{ name: 'stargz.index.json', data: '{}' }])]);
    expect(read(bytes).entries.map((e) => e.name)).toEqual(['a']);
  });

  test('header checksum error names the offset', () => {
    const bytes = tar([{ name: 'a', data: 'A' }, { name: 'b', data: 'B' }]);
    bytes[1024 + 10] ^= 0xff; // second header
    expect(() => read(bytes)).toThrow(expect.objectContaining({ code: 'TAR_CHECKSUM', message: expect.stringContaining('at byte 1024') }));
  });

  test.each([[600, 'inside an entry'], [1536 + 100, 'inside a header']])('truncated at %i: %s', (cut, where) => {
    const bytes = tar([{ name: 'a', data: 'x'.repeat(1000) }, { name: 'b', data: 'B' }]).subarray(0, cut);
    expect(() => read(bytes)).toThrow(expect.objectContaining({ code: 'TAR_TRUNCATED', message: expect.stringContaining(where) }));
  });

  test('a PNG is named as such', () => {
    const png = new Uint8Array(1024); png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(() => read(png)).toThrow(expect.objectContaining({ code: 'TAR_CHECKSUM', message: expect.stringContaining('PNG') }));
  });

  test('GNU sparse files are refused with a clear message', () => {
    const h = encodeHeader({ name: 'sparse', kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 });
    h[156] = 'S'.charCodeAt(0);
    let sum = 0; for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    h.set(new TextEncoder().encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    expect(() => read(new Uint8Array([...h, ...new Uint8Array(1024)]))).toThrow(expect.objectContaining({ code: 'TAR_UNSUPPORTED' }));
  });

  test('real layer streams from the fixtures replay identically in small chunks', () => {
    const outer = new Uint8Array(readFileSync(join(SHARED, 'generated/edge.docker.tar')));
    const { entries } = read(outer);
    const layers = entries.filter((e) => e.kind === 'file' && e.name.endsWith('.tar'));
    expect(layers.length).toBe(5);
    for (const l of layers) {
      const bytes = outer.subarray(l.dataOffset, l.dataOffset + l.size);
      const whole = read(bytes);
      for (const size of [7, 321, 65536]) expect(read(bytes, size).entries).toEqual(whole.entries);
    }
  });
});

describe('writer', () => {
  const specs = [
    { name: 'dir', kind: 'dir' as const, mode: 0o2775 },
    { name: 'dir/' + 'long-name-'.repeat(20), data: 'long' },
    { name: 'dir/ünïcödé ✓.txt', data: 'utf8', uid: 4294967294, gid: 2097152 },
    { name: 'sym', kind: 'symlink' as const, linkname: '/' + 'target/'.repeat(30) + 'end' },
    { name: 'hard', kind: 'hardlink' as const, linkname: 'dir/ünïcödé ✓.txt' },
    { name: 'null', kind: 'char' as const, devmajor: 1, devminor: 3 },
    { name: 'loop', kind: 'block' as const, devmajor: 7, devminor: 0 },
    { name: 'fifo', kind: 'fifo' as const },
    { name: 'x', data: 'xattr', mtime: 1700000000.25, xattrs: { 'user.bin': new Uint8Array([0, 255, 10]), 'security.capability': new Uint8Array([1, 2]) } },
    { name: 'suid', data: 's', mode: 0o4755 },
  ];
  const bytes = tar(specs);

  test('writer → reader round trip', () => {
    const { entries, data } = read(bytes);
    expect(entries.map((e) => e.name)).toEqual(specs.map((s) => s.name + (s.kind === 'dir' ? '/' : '')));
    const u = entries[2];
    expect([u.uid, u.gid]).toEqual([4294967294, 2097152]);
    expect(entries[3].linkname).toBe(specs[3].linkname);
    expect([entries[5].devmajor, entries[5].devminor]).toEqual([1, 3]);
    expect(entries[8].mtime).toBe(1700000000.25);
    expect(Array.from(entries[8].xattrs!['user.bin'])).toEqual([0, 255, 10]);
    expect(entries[0].mode).toBe(0o2775);
    expect(data.get(specs[1].name)).toBe('long');
  });

  test('writer → Python tarfile and GNU tar', () => {
    const f = join(tmp, 'ours.tar');
    writeFileSync(f, bytes);
    const py = execFileSync('python3', ['-c', `
import tarfile, sys
for t in tarfile.open(sys.argv[1]):
    print(t.name, t.type.decode(), oct(t.mode), t.uid, t.gid, t.size, t.linkname, t.devmajor, t.devminor, sorted(k for k in t.pax_headers if k.startswith('SCHILY')))
`, f]).toString();
    expect(py).toContain('dir/ünïcödé ✓.txt 0 0o644 4294967294 2097152 4');
    expect(py).toContain(`sym 2 0o644 0 0 0 ${specs[3].linkname}`);
    expect(py).toContain('null 3 0o644 0 0 0  1 3');
    expect(py).toContain("x 0 0o644 0 0 5  0 0 ['SCHILY.xattr.security.capability', 'SCHILY.xattr.user.bin']");
    const gnu = execFileSync('tar', ['-tvf', f, '--numeric-owner']).toString();
    expect(gnu).toMatch(/drwxrwsr-x 0\/0 .* dir\//);
    expect(gnu).toMatch(/-rwsr-xr-x 0\/0 .* suid/);
    expect(gnu).toContain('hard link to dir/ünïcödé ✓.txt');
    expect(gnu.split('\n').filter(Boolean).length).toBe(specs.length);
  });

  // The export writes headers in place into shared buffers (encodeHeaderInto): the same bytes as
  // encodeHeader, or nothing at all when they do not fit.
  test('headers written in place are encodeHeader\'s bytes; nothing is written where they do not fit', () => {
    const entries: WriteEntry[] = [
      { name: 'a', kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 },
      { name: 'dir', kind: 'dir', mode: 0o2775, uid: 2097151, gid: 2097152, mtime: 8 ** 11 - 1 },
      { name: 'big', kind: 'file', mode: 0o7777, uid: 1, gid: 2, mtime: 8 ** 11, size: 2 ** 31 + 5 },
      { name: 'huge', kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1700000000.5, size: 8 ** 11 },
      { name: 'ünï/' + 'x'.repeat(200), kind: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1, linkname: 'ü'.repeat(60) },
      { name: 'dev', kind: 'char', mode: 0o600, uid: 0, gid: 0, mtime: 1, devmajor: 2 ** 21 + 1, devminor: 2 ** 31 },
      { name: 'xa', kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1, size: 1, xattrs: { 'user.big': new Uint8Array(70_000).fill(7), 'user.a': new Uint8Array([0]) } },
      { name: 'empty-xattrs', kind: 'hardlink', mode: 0o644, uid: 0, gid: 0, mtime: 1, linkname: 'a', xattrs: {} },
    ];
    for (const e of entries) {
      const want = encodeHeader(e);
      const buf = new Uint8Array(want.length + 1024);
      expect(encodeHeaderInto(e, buf, 512), e.name).toBe(want.length);
      expect(Buffer.compare(buf.subarray(512, 512 + want.length), want), e.name).toBe(0);
      expect(buf.subarray(0, 512).every((b) => b === 0) && buf.subarray(512 + want.length).every((b) => b === 0)).toBe(true);
      const small = new Uint8Array(want.length + 511);
      expect(encodeHeaderInto(e, small, 512), e.name).toBe(0);
      expect(small.every((b) => b === 0)).toBe(true);
    }
  });

  test('a flattened tree whose headers cross the writer\'s buffers, with a PAX header larger than one: every entry reads back', async () => {
    // many small files (header runs cut by content), names of every length, one 70 KB xattr
    const specs: Spec[] = [{ name: 'd', kind: 'dir' }];
    for (let i = 0; i < 400; i++) specs.push({ name: `d/${'n'.repeat(1 + (i * 7) % 180)}${i}`, data: 'x'.repeat(i % 3 === 0 ? 0 : (i * 37) % 1500) });
    specs.push({ name: 'd/zz-xattr', data: 'v', xattrs: { 'user.big': new Uint8Array(70_000).fill(9) } });
    for (let i = 0; i < 300; i++) specs.push({ name: `e${i}`, kind: 'symlink', linkname: 'l'.repeat(1 + (i * 13) % 250) });
    const res = await importBytes(dockerArchive({ layers: [tar(specs)] }));
    const parts: BlobPart[] = [];
    for (const r of tarRecords(res.tree)) parts.push(r instanceof Uint8Array ? r as Uint8Array<ArrayBuffer> : res.content[r.layer].slice(r.offset, r.offset + r.size));
    const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
    const { entries, data } = read(bytes, 4096);
    expect(entries.length).toBe(specs.length + 1); // and "./"
    for (const sp of specs) {
      const e = entries.find((x) => x.name === sp.name + (sp.kind === 'dir' ? '/' : ''));
      expect(e, sp.name).toBeDefined();
      if (sp.kind === 'symlink') expect(e!.linkname).toBe(sp.linkname);
      else if (sp.kind !== 'dir') expect(data.get(e!.name)).toBe(sp.data);
    }
    const xa = entries.find((x) => x.name === 'd/zz-xattr')!;
    expect(xa.xattrs!['user.big'].length).toBe(70_000);
  });
});

