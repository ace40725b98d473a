// POSIX tar writer: ustar headers, with a PAX record whenever a value does not fit
// (long names/links, non-ASCII names, big ids/sizes, sub-second mtimes, xattrs).
// Only headers are produced here; content is passed through by the caller (as Blob slices).
import { BLOCK } from './header.ts';

export type WriteKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface WriteEntry {
  /** relative name without leading "/" ; directories get a trailing "/" added here */
  name: string;
  kind: WriteKind;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array> | null;
}

const TYPE: Record<WriteKind, number> = { file: 0x30, hardlink: 0x31, symlink: 0x32, char: 0x33, block: 0x34, dir: 0x35, fifo: 0x36 };
const enc = new TextEncoder();
const MAX_OCTAL_8 = 0o7777777;        // 8-byte fields: 7 digits
const MAX_OCTAL_12 = 0o77777777777;   // 12-byte fields: 11 digits

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

function putString(b: Uint8Array, off: number, len: number, s: string): void {
  // names reach here ASCII (truncateName): written as they are, no TextEncoder (a 112k-entry
  // export made 3 encodes per header: 1.3 s of its 1.4 s of header work)
  const n = Math.min(len, s.length);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) { b.set(enc.encode(s).subarray(0, len), off); return; }
    b[off + i] = c;
  }
}

function putOctal(b: Uint8Array, off: number, len: number, v: number): void {
  // len - 1 octal digits, zero-padded (callers keep v below 8^(len-1)), then NUL
  let x = Math.max(0, Math.floor(v));
  for (let i = off + len - 2; i >= off; i--) { b[i] = 0x30 + (x % 8); x = Math.floor(x / 8); }
  b[off + len - 1] = 0;
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const keyBytes = enc.encode(key);
  const body = keyBytes.length + value.length + 3; // ' ' '=' '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  const out = new Uint8Array(len);
  const head = enc.encode(`${len} ${key}=`);
  out.set(head, 0);
  out.set(value, head.length);
  out[len - 1] = 0x0a;
  return out;
}

/** POSIX decimal, never exponent notation: String(1e300) is "1e+300", which tar readers reject. */
function formatMtime(t: number): string {
  if (Number.isInteger(t)) return BigInt(t).toString();
  return t.toFixed(9).replace(/\.?0+$/, ''); // a double with a fraction is below 2^52: no exponent
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function ustarHeader(e: WriteEntry, name: string, linkname: string, size: number, typeflag: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, e.mode & 0o7777);
  putOctal(h, 108, 8, e.uid <= MAX_OCTAL_8 ? e.uid : 0);
  putOctal(h, 116, 8, e.gid <= MAX_OCTAL_8 ? e.gid : 0);
  putOctal(h, 124, 12, size <= MAX_OCTAL_12 ? size : 0);
  const mt = Math.floor(e.mtime);
  putOctal(h, 136, 12, mt >= 0 && mt <= MAX_OCTAL_12 ? mt : 0);
  h[156] = typeflag;
  putString(h, 157, 100, linkname);
  putString(h, 257, 6, 'ustar');
  h[263] = 0x30; h[264] = 0x30;
  // uname/gname stay empty: ownership is numeric
  const dmaj = e.devmajor ?? 0, dmin = e.devminor ?? 0;
  putOctal(h, 329, 8, dmaj <= MAX_OCTAL_8 ? dmaj : 0);
  putOctal(h, 337, 8, dmin <= MAX_OCTAL_8 ? dmin : 0);
  for (let i = 148; i < 156; i++) h[i] = 0x20;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  const cs = sum.toString(8).padStart(6, '0');
  for (let i = 0; i < 6; i++) h[148 + i] = cs.charCodeAt(i);
  h[154] = 0; h[155] = 0x20;
  return h;
}

/** Header bytes (PAX header + ustar header) for one entry. Content and padding are the caller's. */
export function encodeHeader(e: WriteEntry): Uint8Array {
  const name = e.kind === 'dir' && !e.name.endsWith('/') ? e.name + '/' : e.name;
  const linkname = e.linkname ?? '';
  const size = e.kind === 'file' ? e.size ?? 0 : 0;
  const recs: Uint8Array[] = [];
  // an ASCII string's UTF-8 length is its length
  if (!isAscii(name) || name.length > 100) recs.push(paxRecord('path', enc.encode(name)));
  if (!isAscii(linkname) || linkname.length > 100) recs.push(paxRecord('linkpath', enc.encode(linkname)));
  if (e.uid > MAX_OCTAL_8) recs.push(paxRecord('uid', enc.encode(String(e.uid))));
  if (e.gid > MAX_OCTAL_8) recs.push(paxRecord('gid', enc.encode(String(e.gid))));
  if (size > MAX_OCTAL_12) recs.push(paxRecord('size', enc.encode(String(size))));
  if (!Number.isInteger(e.mtime) || e.mtime < 0 || e.mtime > MAX_OCTAL_12) recs.push(paxRecord('mtime', enc.encode(formatMtime(e.mtime))));
  if ((e.devmajor ?? 0) > MAX_OCTAL_8) recs.push(paxRecord('SCHILY.devmajor', enc.encode(String(e.devmajor))));
  if ((e.devminor ?? 0) > MAX_OCTAL_8) recs.push(paxRecord('SCHILY.devminor', enc.encode(String(e.devminor))));
  if (e.xattrs) {
    for (const k of Object.keys(e.xattrs).sort()) recs.push(paxRecord('SCHILY.xattr.' + k, e.xattrs[k]));
  }
  const main = ustarHeader(e, truncateName(name), truncateName(linkname), size, TYPE[e.kind]);
  if (!recs.length) return main;
  let paxLen = 0;
  for (const r of recs) paxLen += r.length;
  const paxName = truncateName('PaxHeaders/' + name.replace(/\/$/, '').split('/').pop());
  const paxHdr = ustarHeader({ name: paxName, kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, paxName, '', paxLen, 0x78);
  const out = new Uint8Array(BLOCK + paxLen + padding(paxLen) + BLOCK);
  out.set(paxHdr, 0);
  let p = BLOCK;
  for (const r of recs) { out.set(r, p); p += r.length; }
  out.set(main, BLOCK + paxLen + padding(paxLen));
  return out;
}

/** ustar fallback name: the PAX record carries the real one; keep what fits, on a char boundary. */
function truncateName(s: string): string {
  if (isAscii(s) && s.length <= 100) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0) > 127 ? '_' : ch;
    if (out.length + 1 > 100) break;
    out += c;
  }
  return out;
}

/** Two zero blocks: end of archive. */
export function endOfArchive(): Uint8Array {
  return new Uint8Array(BLOCK * 2);
}
