// Go build info: binaries built by Debian's Go for four ELF flavours against `go version -m`
// recorded with them, the same with section headers stripped (segment search), this machine's
// Go programs against a live `go version -m`, the pre-1.18 pointer format, and damaged binaries.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  goMayBeBinary, parseGoBinary, readGoBuildInfo, type GoBuildInfo, type GoModule,
} from '../../../../src/core/analysis/packages/golang.ts';
import { purlFor } from '../../../../src/core/analysis/packages/purl.ts';
import { bytesRangeRead, enc, expectCatalogErrorAsync, fileRangeRead, fixtureText, gunzipFixture, has, run } from './helpers.ts';

/** `go version -m` output → one GoBuildInfo per file, in the shape readGoBuildInfo returns. */
function parseGoVersionM(out: string): Map<string, GoBuildInfo> {
  const files = new Map<string, GoBuildInfo>();
  let cur: GoBuildInfo | null = null;
  let last: GoModule | null = null;
  for (const line of out.split('\n')) {
    const head = /^(.+): (go\S.*|devel .*)$/.exec(line);
    if (head && !line.startsWith('\t')) {
      cur = { goVersion: head[2], path: null, main: null, deps: [], settings: [] };
      files.set(head[1], cur);
      continue;
    }
    if (!cur || !line.startsWith('\t')) continue;
    const f = line.slice(1).split('\t');
    const mod = (): GoModule => ({ path: f[1], version: f[2] ?? '', sum: f[3] || null, replace: null });
    if (f[0] === 'path') cur.path = f[1];
    else if (f[0] === 'mod') cur.main = last = mod();
    else if (f[0] === 'dep') cur.deps.push((last = mod()));
    else if (f[0] === '=>') last!.replace = mod();
    else if (f[0] === 'build') {
      const eq = f[1].indexOf('=');
      cur.settings.push(eq < 0 ? { key: f[1], value: '' } : { key: f[1].slice(0, eq), value: f[1].slice(eq + 1) });
    }
  }
  return files;
}

const ARCHES = ['amd64', '386', 'mips', 's390x'];

/** The same binary without section headers (e_shoff, e_shnum, e_shstrndx zeroed), as sstrip leaves it. */
function withoutSections(b: Uint8Array): Uint8Array {
  const c = b.slice();
  const v = new DataView(c.buffer);
  const le = c[5] === 1;
  if (c[4] === 2) {
    v.setBigUint64(0x28, 0n, le);
    v.setUint16(0x3c, 0, le);
    v.setUint16(0x3e, 0, le);
  } else {
    v.setUint32(0x20, 0, le);
    v.setUint16(0x30, 0, le);
    v.setUint16(0x32, 0, le);
  }
  return c;
}

describe.each(ARCHES)('fixture built for %s', (arch) => {
  const bin = gunzipFixture(`go/hello-${arch}.gz`);
  const want = [...parseGoVersionM(fixtureText(`go/hello-${arch}.go-version-m.txt`)).values()][0];

  test('build info equals go version -m', async () => {
    expect(await readGoBuildInfo(bytesRangeRead(bin), bin.length)).toEqual(want);
  });

  test('found the same way with the section headers stripped (first writable PT_LOAD)', async () => {
    expect(await readGoBuildInfo(bytesRangeRead(withoutSections(bin)), bin.length)).toEqual(want);
  });

  test('packages: main module, dependencies (replacements applied), stdlib', async () => {
    const pkgs = await parseGoBinary(bytesRangeRead(bin), bin.length);
    expect(pkgs!.map((p) => `${p.name}@${p.version}`)).toEqual([
      'example.com/strata-gotest@(devel)',
      'example.com/greet@v1.2.3',
      'example.com/local@v0.0.0', // replaced by the directory ./local: the required version stays
      'example.com/shout-fork@v0.1.1', // replaced by another module: that module is what is built in
      'stdlib@go1.19.8',
    ]);
    expect(pkgs!.map((p) => purlFor('golang', p, { distro: null }))).toEqual([
      'pkg:golang/example.com/strata-gotest@(devel)',
      'pkg:golang/example.com/greet@v1.2.3',
      'pkg:golang/example.com/local@v0.0.0',
      'pkg:golang/example.com/shout-fork@v0.1.1',
      'pkg:golang/stdlib@1.19.8',
    ]);
  });
});

/** Regular files with an execute bit in `dir` (not symlinks: `go version` skips those too). */
function executables(dir: string): string[] {
  return readdirSync(dir).map((f) => join(dir, f)).filter((p) => {
    const st = lstatSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  });
}

const LIVE_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/sbin'];

describe.skipIf(!has('go'))('this machine’s programs against a live go version -m', () => {
  test.each(LIVE_DIRS)('%s: the same Go binaries, with the same build info; every other file is null', async (dir) => {
    const want = parseGoVersionM(run('go', ['version', '-m', dir]));
    const files = executables(dir);
    let go = 0;
    for (const path of files) {
      const f = fileRangeRead(path);
      try {
        const info = await readGoBuildInfo(f.read, f.size);
        expect(info, path).toEqual(want.get(path) ?? null);
        if (info) {
          go++;
          // a few small reads, never the whole binary
          expect(f.bytesRead(), path).toBeLessThan(Math.max(256 * 1024, 2 * JSON.stringify(info).length + 200_000));
        }
      } finally {
        f.close();
      }
    }
    expect(go).toBe([...want.keys()].filter((p) => files.includes(p)).length);
    console.log(`${dir}: ${files.length} executables, ${go} Go binaries agree with go version -m`);
  });
});

// Debian builds umoci in GOPATH mode: its build info has a path and build settings, no module
// lines. Without `go` to compare against, check only what does not change with Debian updates.
test.skipIf(has('go') || !existsSafe('/usr/bin/umoci'))('/usr/bin/umoci parses and names its main package', async () => {
  const f = fileRangeRead('/usr/bin/umoci');
  try {
    const info = await readGoBuildInfo(f.read, f.size);
    expect(info?.goVersion).toMatch(/^go1\.\d+/);
    expect(info?.path).toBe('github.com/opencontainers/umoci/cmd/umoci');
  } finally {
    f.close();
  }
});

function existsSafe(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * A minimal ELF with the pre-Go-1.18 build info: the header holds two pointers to Go string headers
 * (data pointer, length), which point into the one writable PT_LOAD segment; no section headers.
 */
function pointerFormatElf(is64: boolean, le: boolean, version: string, modinfo: string): Uint8Array {
  const ptr = is64 ? 8 : 4;
  const ehsize = is64 ? 64 : 52;
  const phsize = is64 ? 56 : 32;
  const segOff = 0x1000;
  const vaddr = 0x400000 + segOff;
  const ver = enc(version);
  const mod = enc(modinfo);
  // segment layout: header (32) | version string header | modinfo string header | data
  const vHdr = 32;
  const mHdr = vHdr + 2 * ptr;
  const vData = mHdr + 2 * ptr;
  const mData = vData + ver.length;
  const segLen = mData + mod.length;
  const b = new Uint8Array(segOff + segLen);
  const v = new DataView(b.buffer);
  const word = (at: number, x: number) => (is64 ? v.setBigUint64(at, BigInt(x), le) : v.setUint32(at, x, le));
  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  v.setUint16(16, 2, le);
  if (is64) {
    v.setBigUint64(0x20, BigInt(ehsize), le);
    v.setUint16(0x36, phsize, le);
    v.setUint16(0x38, 2, le);
  } else {
    v.setUint32(0x1c, ehsize, le);
    v.setUint16(0x2a, phsize, le);
    v.setUint16(0x2c, 2, le);
  }
  // a read-only executable segment first (not the one searched), then the writable one
  const ph = (i: number, flags: number, off: number, addr: number, size: number) => {
    const at = ehsize + i * phsize;
    v.setUint32(at, 1, le);
    if (is64) {
      v.setUint32(at + 4, flags, le);
      v.setBigUint64(at + 8, BigInt(off), le);
      v.setBigUint64(at + 16, BigInt(addr), le);
      v.setBigUint64(at + 32, BigInt(size), le);
      v.setBigUint64(at + 40, BigInt(size), le);
    } else {
      v.setUint32(at + 4, off, le);
      v.setUint32(at + 8, addr, le);
      v.setUint32(at + 16, size, le);
      v.setUint32(at + 20, size, le);
      v.setUint32(at + 24, flags, le);
    }
  };
  ph(0, 5, 0, 0x400000, segOff);
  ph(1, 6, segOff, vaddr, segLen);
  b.set([0xff, ...enc(' Go buildinf:'), ptr, le ? 0 : 1], segOff);
  word(segOff + 16, vaddr + vHdr);
  word(segOff + 16 + ptr, vaddr + mHdr);
  word(segOff + vHdr, vaddr + vData);
  word(segOff + vHdr + ptr, ver.length);
  word(segOff + mHdr, vaddr + mData);
  word(segOff + mHdr + ptr, mod.length);
  b.set(ver, segOff + vData);
  b.set(mod, segOff + mData);
  return b;
}

const SENTINEL = '0123456789abcdef';
const MODTEXT = 'path\texample.com/old/cmd\nmod\texample.com/old\tv1.0.0\th1:abc=\ndep\tgolang.org/x/text\tv0.3.0\th1:def=\n';

describe('Go < 1.18 pointer format (synthetic ELF, no sections)', () => {
  test.each([
    [true, true],
    [false, true],
    [true, false],
    [false, false],
  ])('64-bit %s, little-endian %s', async (is64, le) => {
    const b = pointerFormatElf(is64, le, 'go1.16.15', SENTINEL + MODTEXT + SENTINEL);
    const info = await readGoBuildInfo(bytesRangeRead(b), b.length);
    expect(info).toEqual({
      goVersion: 'go1.16.15',
      path: 'example.com/old/cmd',
      main: { path: 'example.com/old', version: 'v1.0.0', sum: 'h1:abc=', replace: null },
      deps: [{ path: 'golang.org/x/text', version: 'v0.3.0', sum: 'h1:def=', replace: null }],
      settings: [],
    });
    const pkgs = await parseGoBinary(bytesRangeRead(b), b.length);
    expect(pkgs!.map((p) => `${p.name}@${p.version}`)).toEqual(['example.com/old@v1.0.0', 'golang.org/x/text@v0.3.0', 'stdlib@go1.16.15']);
  });

  test('a binary without module info (GOPATH build) still gives the toolchain', async () => {
    const b = pointerFormatElf(true, true, 'go1.13.8', '');
    expect(await parseGoBinary(bytesRangeRead(b), b.length)).toEqual([{ name: 'stdlib', version: 'go1.13.8', arch: null, license: 'BSD-3-Clause' }]);
  });
});

describe('files that are not Go ELF executables give null', () => {
  const amd64 = gunzipFixture('go/hello-amd64.gz');
  const noMagic = withoutSections(amd64);
  const at = findMagic(noMagic);
  noMagic[at] = 0;
  test.each<[string, Uint8Array]>([
    ['empty', new Uint8Array(0)],
    ['a shell script', enc('#!/bin/sh\necho hello\n'.repeat(100))],
    ['random bytes', Uint8Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24)],
    ['a PE/Mach-O-like header', enc('MZ\x90\x00'.padEnd(4096, '\0'))],
    ['an ELF header alone', amd64.slice(0, 64)],
    ['an ELF with a bad class byte', (() => {
      const c = amd64.slice(0, 4096);
      c[4] = 7;
      return c;
    })()],
    ['an ELF whose writable segment has no build info (not Go, or Go < 1.13)', noMagic],
  ])('%s', async (_name, b) => {
    expect(await parseGoBinary(bytesRangeRead(b), b.length)).toBeNull();
  });

  test.skipIf(!existsSafe('/bin/ls'))('/bin/ls (a C program)', async () => {
    const f = fileRangeRead('/bin/ls');
    try {
      expect(await parseGoBinary(f.read, f.size)).toBeNull();
    } finally {
      f.close();
    }
  });
});

function findMagic(b: Uint8Array): number {
  const m = [0xff, ...enc(' Go buildinf:')];
  for (let i = 0; i < b.length; i += 16) if (m.every((x, j) => b[i + j] === x)) return i;
  return -1;
}

describe('damaged build info ends in a CatalogError naming the problem', () => {
  const bin = gunzipFixture('go/hello-amd64.gz');
  const magic = findMagic(bin);
  const text = new TextDecoder('latin1').decode(bin.subarray(magic, magic + 1024));
  const mod = (fn: (b: Uint8Array) => void, base = bin) => {
    const c = base.slice();
    fn(c);
    return c;
  };
  // inline format: header (32), varint length + version, varint length (2 bytes here) + module info
  const verLen = bin[magic + 32];
  const modLenAt = magic + 33 + verLen;

  test('the fixture is the inline format this table expects', () => {
    expect(bin[magic + 15] & 2).toBe(2);
    expect(text).toContain('go1.19.8');
  });

  test.each<[string, () => Uint8Array, RegExp]>([
    ['the .go.buildinfo section without its magic', () => mod((b) => (b[magic + 3] = 0x41)), /\.go\.buildinfo section does not start with the .* magic; the binary is damaged/],
    ['a module info length far past the end', () => mod((b) => b.set([0xff, 0xff, 0xff, 0x0f], modLenAt)), /module info string (claims \d+ bytes|.*runs past the end)/],
    ['a module info length one short (sentinels broken)', () => mod((b) => (b[modLenAt] -= 1)), /module info is not framed by its 16-byte sentinels/],
    ['a version string that is not one', () => mod((b) => b.set(enc('xx1.19.8'), magic + 33)), /Go version "xx1\.19\.8" is not a Go version string/],
    ['a module line with too many columns', () => mod((b) => {
      const i = text.indexOf('\ndep\texample.com/local');
      b[magic + i] = 9;
    }), /module info line \d+ \("dep\\texample\.com\/greet.*does not have 2 or 3 columns/],
    ['a replacement with no module above it', () => mod((b) => {
      const i = text.indexOf('path\t');
      b.set(enc('=>\tx\t'), magic + i);
    }), /module info line 1 .*(replaces no module|does not have 1 or 3 columns)/],
    ['an unknown pointer size in the old format', () => mod((b) => {
      b[magic + 15] = 0;
      b[magic + 14] = 3;
    }), /pointer size 3, not 4 or 8/],
    ['old-format pointers to nowhere', () => mod((b) => {
      b[magic + 15] = 0;
      b.fill(0xee, magic + 16, magic + 32);
    }), /Go version pointer 0x[0-9a-f]+ is not in any loaded segment/],
  ])('%s', async (_name, make, message) => {
    const b = make();
    await expectCatalogErrorAsync(() => parseGoBinary(bytesRangeRead(b), b.length), message);
  });

  test('a binary cut inside its module info (segment search)', async () => {
    const b = withoutSections(bin).slice(0, modLenAt + 40);
    await expectCatalogErrorAsync(() => parseGoBinary(bytesRangeRead(b), b.length), /module info string \(\d+ bytes\) runs past the end of the file; the binary is truncated/);
  });
});

test.each([
  [2_000_000, 0o755, true],
  [2_000_000, 0o100755, true],
  [2_000_000, 0o744, true],
  [2_000_000, 0o644, false],
  [2_000_000, 0o120777, false], // a symlink
  [2_000_000, 0o040755, false], // a directory
  [100_000, 0o755, false],
  [20 * 1024 ** 3, 0o755, false],
])('goMayBeBinary(%i, %o) → %s', (size, mode, want) => {
  expect(goMayBeBinary(size, mode)).toBe(want);
});
