// PAX extended header records: "LEN key=value\n". Values are kept as raw bytes where they may be
// binary (xattrs); numeric and path keys are decoded.
import { StrataError } from '../errors.ts';

export interface PaxRecords {
  path?: string;
  linkpath?: string;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array>;
  sparse?: boolean;
}

const utf8 = new TextDecoder('utf-8');

function num(v: string, key: string, what: string): number {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) throw new StrataError('TAR_BAD_HEADER', `${what}: PAX record ${key}=${JSON.stringify(v.slice(0, 40))} is not a number`);
  return n;
}

/** size, ids and device numbers are decimal integers: "1.5" or "-1" as a size would misalign the stream */
function count(v: string, key: string, what: string): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new StrataError('TAR_BAD_HEADER', `${what}: PAX record ${key}=${JSON.stringify(v.slice(0, 40))} is not a whole number of at most 2^53`);
  }
  return n;
}

function base64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function parsePax(b: Uint8Array, what: string): PaxRecords {
  const r: PaxRecords = {};
  let p = 0;
  while (p < b.length) {
    if (b[p] === 0) break; // NUL padding after the last record
    let sp = p;
    while (sp < b.length && b[sp] !== 0x20) sp++;
    const len = Number(utf8.decode(b.subarray(p, sp)));
    if (!Number.isInteger(len) || len <= sp - p + 1 || p + len > b.length || b[p + len - 1] !== 0x0a) {
      throw new StrataError('TAR_BAD_HEADER', `${what}: malformed PAX extended header record at byte ${p}`);
    }
    let eq = sp + 1;
    while (eq < p + len && b[eq] !== 0x3d) eq++;
    if (eq >= p + len) throw new StrataError('TAR_BAD_HEADER', `${what}: PAX record without "=" at byte ${p}`);
    const key = utf8.decode(b.subarray(sp + 1, eq));
    const raw = b.subarray(eq + 1, p + len - 1);
    p += len;
    if (key.startsWith('SCHILY.xattr.')) {
      (r.xattrs ??= {})[key.slice(13)] = raw.slice();
      continue;
    }
    if (key.startsWith('LIBARCHIVE.xattr.')) {
      // the name is %-encoded and the value base64: decoders that throw URIError / DOMException
      let name: string, value: Uint8Array;
      try {
        name = decodeURIComponent(key.slice(17));
        value = base64(utf8.decode(raw));
      } catch (e) {
        throw new StrataError('TAR_BAD_HEADER', `${what}: PAX record ${JSON.stringify(key.slice(0, 80))} is not a valid libarchive xattr (bad %-escape in the name or bad base64 in the value)`, { cause: e });
      }
      (r.xattrs ??= {})[name] = value;
      continue;
    }
    const v = utf8.decode(raw);
    switch (key) {
      case 'path': r.path = v; break;
      case 'linkpath': r.linkpath = v; break;
      case 'uid': r.uid = count(v, key, what); break;
      case 'gid': r.gid = count(v, key, what); break;
      case 'size': r.size = count(v, key, what); break;
      case 'mtime': r.mtime = num(v, key, what); break;
      case 'SCHILY.devmajor': r.devmajor = count(v, key, what); break;
      case 'SCHILY.devminor': r.devminor = count(v, key, what); break;
      default:
        if (key.startsWith('GNU.sparse.')) r.sparse = true;
      // atime, ctime, uname, gname, comment, charset, SCHILY.dev/ino/nlink: not part of the image
    }
  }
  return r;
}
