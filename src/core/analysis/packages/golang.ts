// Go modules compiled into ELF executables, from the build information the Go linker embeds
// (what `go version -m` prints): the `.go.buildinfo` section, or — when section headers are
// stripped — the start of the first writable PT_LOAD segment, as Go's debug/buildinfo looks.
import { CatalogError, type ParsedPackage, type RangeRead } from './types.ts';

const MAGIC = [0xff, 0x20, 0x47, 0x6f, 0x20, 0x62, 0x75, 0x69, 0x6c, 0x64, 0x69, 0x6e, 0x66, 0x3a]; // "\xff Go buildinf:"
const HEADER_SIZE = 32;
const ALIGN = 16;
/** how far into a writable segment the header is looked for (debug/buildinfo reads as much) */
const SEARCH_SIZE = 64 * 1024;
const MAX_MODINFO = 64 * 1024 * 1024;
const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const SHT_NOBITS = 8;

export interface GoModule {
  path: string;
  /** empty for a replacement by a local directory */
  version: string;
  sum: string | null;
  replace: GoModule | null;
}

export interface GoBuildInfo {
  /** the toolchain, e.g. "go1.22.1" (may carry " X:…" experiment tags) */
  goVersion: string;
  /** the main package's import path */
  path: string | null;
  /** null for a binary built outside module mode (GOPATH; Debian builds many this way) */
  main: GoModule | null;
  deps: GoModule[];
  settings: { key: string; value: string }[];
}

/**
 * Cheap prefilter before any byte is read: a regular file with an execute bit and a size a Go
 * program can have. `mode` is the tar header's mode: permission bits, with the S_IFMT type bits
 * when the caller has them (then anything but a regular file is refused). The smallest Go program
 * (an empty main, stripped) is over 700 KiB, so files under 256 KiB are skipped.
 */
export function goMayBeBinary(size: number, mode: number): boolean {
  const type = mode & 0o170000;
  if (type !== 0 && type !== 0o100000) return false;
  return (mode & 0o111) !== 0 && size >= 256 * 1024 && size <= 8 * 1024 ** 3;
}

interface Segment { vaddr: number; offset: number; filesz: number; flags: number }

interface Elf {
  le: boolean;
  is64: boolean;
  segments: Segment[];
  /** file offset and size of .go.buildinfo, when there are section headers naming it */
  buildinfo: { offset: number; size: number } | null;
}

class Bytes {
  private readonly dv: DataView;
  constructor(b: Uint8Array, private readonly le: boolean) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u16(o: number): number { return this.dv.getUint16(o, this.le); }
  u32(o: number): number { return this.dv.getUint32(o, this.le); }
  u64(o: number): number {
    const v = this.dv.getBigUint64(o, this.le);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  word(o: number, is64: boolean): number { return is64 ? this.u64(o) : this.u32(o); }
}

/** Reads `length` bytes at `offset`, or null when that range is not inside the file. */
async function readIn(read: RangeRead, size: number, offset: number, length: number): Promise<Uint8Array | null> {
  if (!(offset >= 0 && length >= 0 && offset + length <= size)) return null;
  const b = await read(offset, length);
  return b.length >= length ? b.subarray(0, length) : null;
}

async function readElf(read: RangeRead, size: number): Promise<Elf | null> {
  const ident = await readIn(read, size, 0, 64);
  if (!ident || ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) return null;
  const cls = ident[4];
  const enc = ident[5];
  if ((cls !== 1 && cls !== 2) || (enc !== 1 && enc !== 2)) return null;
  const is64 = cls === 2;
  const le = enc === 1;
  const h = new Bytes(ident, le);
  const phoff = h.word(is64 ? 0x20 : 0x1c, is64);
  const shoff = h.word(is64 ? 0x28 : 0x20, is64);
  const phentsize = h.u16(is64 ? 0x36 : 0x2a);
  const phnum = h.u16(is64 ? 0x38 : 0x2c);
  const shentsize = h.u16(is64 ? 0x3a : 0x2e);
  let shnum = h.u16(is64 ? 0x3c : 0x30);
  let shstrndx = h.u16(is64 ? 0x3e : 0x32);

  const segments: Segment[] = [];
  // the caps keep a corrupt header from asking for gigabytes; real tables are a few KiB
  if (phoff > 0 && phnum > 0 && phentsize >= (is64 ? 56 : 32) && phnum * phentsize <= 1 << 20) {
    const ph = await readIn(read, size, phoff, phnum * phentsize);
    if (ph) {
      const p = new Bytes(ph, le);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        if (p.u32(o) !== PT_LOAD) continue;
        segments.push(is64
          ? { flags: p.u32(o + 4), offset: p.u64(o + 8), vaddr: p.u64(o + 16), filesz: p.u64(o + 32) }
          : { offset: p.u32(o + 4), vaddr: p.u32(o + 8), filesz: p.u32(o + 16), flags: p.u32(o + 24) });
      }
    }
  }

  let buildinfo: Elf['buildinfo'] = null;
  const shsize = is64 ? 64 : 40;
  if (shoff > 0 && shentsize >= shsize) {
    // more than 0xff00 sections: the real count and string-table index live in section 0
    if (shnum === 0 || shstrndx === 0xffff) {
      const s0 = await readIn(read, size, shoff, shentsize);
      if (s0) {
        const s = new Bytes(s0, le);
        if (shnum === 0) shnum = s.word(is64 ? 0x20 : 0x14, is64);
        if (shstrndx === 0xffff) shstrndx = s.u32(is64 ? 0x28 : 0x18);
      }
    }
    const table = shnum > 0 && shnum * shentsize <= 1 << 24 ? await readIn(read, size, shoff, shnum * shentsize) : null;
    if (table && shstrndx < shnum) {
      const t = new Bytes(table, le);
      const sec = (i: number) => {
        const o = i * shentsize;
        return is64
          ? { name: t.u32(o), type: t.u32(o + 4), offset: t.u64(o + 24), size: t.u64(o + 32) }
          : { name: t.u32(o), type: t.u32(o + 4), offset: t.u32(o + 16), size: t.u32(o + 20) };
      };
      const strtab = sec(shstrndx);
      const names = strtab.size > 0 && strtab.size <= 1 << 24 ? await readIn(read, size, strtab.offset, strtab.size) : null;
      if (names) {
        const want = '.go.buildinfo';
        for (let i = 1; i < shnum; i++) {
          const s = sec(i);
          if (s.type === SHT_NOBITS || !nameAt(names, s.name, want)) continue;
          buildinfo = { offset: s.offset, size: s.size };
          break;
        }
      }
    }
  }
  return { le, is64, segments, buildinfo };
}

function nameAt(table: Uint8Array, at: number, want: string): boolean {
  if (at + want.length >= table.length) return false;
  for (let i = 0; i < want.length; i++) if (table[at + i] !== want.charCodeAt(i)) return false;
  return table[at + want.length] === 0;
}

function findMagic(b: Uint8Array): number {
  for (let i = 0; i + HEADER_SIZE <= b.length; i += ALIGN) {
    let ok = true;
    for (let j = 0; j < MAGIC.length && ok; j++) ok = b[i + j] === MAGIC[j];
    if (ok) return i;
  }
  return -1;
}

const text = new TextDecoder('utf-8', { fatal: false });

/**
 * The build information of a Go ELF executable; null when the file is not an ELF file or carries
 * no Go build information (not Go, or Go older than 1.13). A file whose header is there but whose
 * contents are not readable throws CatalogError naming what is wrong.
 */
export async function readGoBuildInfo(read: RangeRead, size: number): Promise<GoBuildInfo | null> {
  const elf = await readElf(read, size);
  if (!elf) return null;
  let start: number;
  let region: Uint8Array | null;
  if (elf.buildinfo) {
    start = elf.buildinfo.offset;
    region = await readIn(read, size, start, Math.min(elf.buildinfo.size, SEARCH_SIZE));
    if (!region) throw new CatalogError(`Go build info: the .go.buildinfo section (offset ${start}, ${elf.buildinfo.size} bytes) lies outside the file; the binary is truncated`);
  } else {
    const seg = elf.segments.find((s) => (s.flags & (PF_X | PF_W)) === PF_W);
    if (!seg) return null;
    start = seg.offset;
    region = await readIn(read, size, start, Math.min(seg.filesz, SEARCH_SIZE, size - start));
    if (!region) return null;
  }
  const at = findMagic(region);
  if (at < 0) {
    if (elf.buildinfo) throw new CatalogError('Go build info: the .go.buildinfo section does not start with the "\\xff Go buildinf:" magic; the binary is damaged');
    return null;
  }
  const hdr = start + at;
  const head = region.subarray(at, at + HEADER_SIZE);
  const ptrSize = head[14];
  const flags = head[15];
  let goVersion: string;
  let modinfo: string;
  if (flags & 2) {
    const [v, next] = await readVarString(read, size, hdr + HEADER_SIZE, 'Go version');
    goVersion = v;
    modinfo = (await readVarString(read, size, next, 'module info'))[0];
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) throw new CatalogError(`Go build info: header gives pointer size ${ptrSize}, not 4 or 8; the binary is damaged`);
    const p = new Bytes(head, (flags & 1) === 0);
    const big = ptrSize === 8;
    goVersion = await readGoString(read, size, elf, p.word(16, big), ptrSize, (flags & 1) === 0, 'Go version');
    modinfo = await readGoString(read, size, elf, p.word(16 + ptrSize, big), ptrSize, (flags & 1) === 0, 'module info');
  }
  if (!/^(go\d|devel )/.test(goVersion)) {
    throw new CatalogError(`Go build info: the Go version ${JSON.stringify(goVersion.slice(0, 40))} is not a Go version string; the binary is damaged`);
  }
  return { goVersion, ...parseGoModInfo(stripSentinels(modinfo)) };
}

async function readVarString(read: RangeRead, size: number, offset: number, what: string): Promise<[string, number]> {
  const head = await readIn(read, size, offset, Math.min(10, size - offset));
  if (!head || head.length === 0) throw new CatalogError(`Go build info: the ${what} string lies past the end of the file; the binary is truncated`);
  let len = 0;
  let mul = 1;
  let n = 0;
  for (;;) {
    if (n >= head.length) throw new CatalogError(`Go build info: the length of the ${what} string is not a valid varint; the binary is damaged`);
    const b = head[n++];
    len += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) break;
  }
  if (len > MAX_MODINFO) throw new CatalogError(`Go build info: the ${what} string claims ${len} bytes; the binary is damaged`);
  const body = await readIn(read, size, offset + n, len);
  if (!body) throw new CatalogError(`Go build info: the ${what} string (${len} bytes) runs past the end of the file; the binary is truncated`);
  return [text.decode(body), offset + n + len];
}

/** A Go string header (data pointer, length) at virtual address `addr`, read through the segments. */
async function readGoString(read: RangeRead, size: number, elf: Elf, addr: number, ptrSize: number, le: boolean, what: string): Promise<string> {
  const big = ptrSize === 8;
  const hdrOff = fileOffset(elf, addr, ptrSize * 2);
  const hdr = hdrOff === null ? null : await readIn(read, size, hdrOff, ptrSize * 2);
  if (!hdr) throw new CatalogError(`Go build info: the ${what} pointer 0x${addr.toString(16)} is not in any loaded segment; the binary is damaged`);
  const h = new Bytes(hdr, le);
  const data = h.word(0, big);
  const len = h.word(ptrSize, big);
  if (len === 0) return '';
  if (len > MAX_MODINFO) throw new CatalogError(`Go build info: the ${what} string claims ${len} bytes; the binary is damaged`);
  const off = fileOffset(elf, data, len);
  const body = off === null ? null : await readIn(read, size, off, len);
  if (!body) throw new CatalogError(`Go build info: the ${what} string at 0x${data.toString(16)} is not in any loaded segment; the binary is damaged`);
  return text.decode(body);
}

function fileOffset(elf: Elf, addr: number, len: number): number | null {
  for (const s of elf.segments) {
    if (addr >= s.vaddr && addr + len <= s.vaddr + s.filesz) return s.offset + (addr - s.vaddr);
  }
  return null;
}

/**
 * The linker wraps the module text in two 16-byte sentinels (so the runtime can find it); the
 * text ends with a newline before the closing one. An empty string means no module information.
 */
function stripSentinels(mod: string): string {
  if (mod === '') return '';
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') return mod.slice(16, -16);
  throw new CatalogError('Go build info: the module info is not framed by its 16-byte sentinels; the binary is damaged');
}

/** The module text as `go version -m` prints it: path, mod, dep, "=>" (replaces the line above), build. */
export function parseGoModInfo(mod: string): Omit<GoBuildInfo, 'goVersion'> {
  const out: Omit<GoBuildInfo, 'goVersion'> = { path: null, main: null, deps: [], settings: [] };
  let last: GoModule | null = null;
  const lines = mod.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const key = tab < 0 ? line : line.slice(0, tab);
    const rest = tab < 0 ? '' : line.slice(tab + 1);
    const bad = (why: string): never => {
      throw new CatalogError(`Go build info: module info line ${i + 1} (${JSON.stringify(line.slice(0, 60))}) ${why}; the binary is damaged`);
    };
    switch (key) {
      case 'path':
        out.path = rest;
        break;
      case 'mod':
      case 'dep': {
        const f = rest.split('\t');
        if (f.length < 2 || f.length > 3 || !f[0]) bad('does not have 2 or 3 columns');
        last = { path: f[0], version: f[1], sum: f[2] || null, replace: null };
        if (key === 'mod') out.main = last;
        else out.deps.push(last);
        break;
      }
      case '=>': {
        const f = rest.split('\t');
        if (f.length !== 1 && f.length !== 3) bad('does not have 1 or 3 columns');
        if (!last) bad('replaces no module');
        last!.replace = { path: f[0], version: f[1] ?? '', sum: f[2] || null, replace: null };
        last = null;
        break;
      }
      case 'build': {
        const eq = rest.indexOf('=');
        out.settings.push(eq < 0 ? { key: rest, value: '' } : { key: rest.slice(0, eq), value: rest.slice(eq + 1) });
        break;
      }
      default:
        // newer toolchains may add line kinds; they do not change what is known so far
        break;
    }
  }
  return out;
}

/**
 * The packages a Go binary is built from, as syft lists them: the main module (with its version
 * as stamped, often "(devel)"), every dependency — a replacement by another module version counts
 * as that module, a replacement by a local directory keeps the required path and version, since a
 * directory has no version (Go stamps it "(devel)") — and the standard library as `stdlib` at the toolchain's version.
 * null when the file is not a Go ELF executable.
 */
export async function parseGoBinary(read: RangeRead, size: number): Promise<ParsedPackage[] | null> {
  const info = await readGoBuildInfo(read, size);
  if (!info) return null;
  return goBuildInfoPackages(info);
}

export function goBuildInfoPackages(info: GoBuildInfo): ParsedPackage[] {
  const out: ParsedPackage[] = [];
  if (info.main && info.main.path) out.push({ name: info.main.path, version: info.main.version || '(devel)', arch: null, license: null });
  for (const d of info.deps) {
    const m = d.replace && d.replace.version && !isDirectoryPath(d.replace.path) ? d.replace : d;
    out.push({ name: m.path, version: m.version, arch: null, license: null });
  }
  const v = toolchainVersion(info.goVersion);
  if (v) out.push({ name: 'stdlib', version: v, arch: null, license: 'BSD-3-Clause' });
  return out;
}

/** a `replace` target that is a directory ("./x", "../x", "/x"; Go stamps such a one "(devel)") */
function isDirectoryPath(p: string): boolean {
  return p.startsWith('./') || p.startsWith('../') || p.startsWith('/') || p === '.' || p === '..' || /^[A-Za-z]:[\\/]|^\.{1,2}\\/.test(p);
}

/** "go1.22.1 X:boringcrypto" → "go1.22.1"; "devel go1.23-abc …" → "go1.23-abc" */
function toolchainVersion(v: string): string | null {
  const words = v.trim().split(/\s+/);
  const w = words[0] === 'devel' ? words[1] : words[0];
  return w && /^go\d/.test(w) ? w : null;
}
