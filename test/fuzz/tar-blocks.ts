// Test-side tar surgery, written independently of src/core/tar: split a tar into records (the
// header blocks of one entry, PAX/GNU prefixes included, plus its data), rewrite header fields at
// their fixed offsets, recompute checksums. The reader under test is never used to find its input.

export const BLOCK = 512;

/** [offset, length] of each ustar header field */
export const FIELD = {
  name: [0, 100], mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12],
  chksum: [148, 8], typeflag: [156, 1], linkname: [157, 100], magic: [257, 6], version: [263, 2],
  uname: [265, 32], gname: [297, 32], devmajor: [329, 8], devminor: [337, 8], prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;
export type Field = keyof typeof FIELD;

const enc = new TextEncoder();
const dec = new TextDecoder();

export function isZero(b: Uint8Array, at = 0): boolean {
  for (let i = at; i < at + BLOCK; i++) if (b[i]) return false;
  return true;
}

export function cstr(b: Uint8Array, at: number, len: number): string {
  let end = at;
  while (end < at + len && b[end]) end++;
  return dec.decode(b.subarray(at, end));
}

/** Octal or base-256 number; NaN when the field is neither. */
export function readNumber(b: Uint8Array, at: number, len: number): number {
  if (b[at] & 0x80) {
    let v = b[at] & 0x7f;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = cstr(b, at, len).trim();
  return s === '' ? 0 : /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN;
}

export function sumOf(b: Uint8Array, at = 0): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[at + i];
  return sum;
}

export function checksumValid(b: Uint8Array, at = 0): boolean {
  return b.length - at >= BLOCK && readNumber(b, at + 148, 8) === sumOf(b, at);
}

/** Writes the header's checksum as tar does: six octal digits, NUL, space. */
export function fixChecksum(b: Uint8Array, at = 0): void {
  const s = sumOf(b, at).toString(8).padStart(6, '0');
  for (let i = 0; i < 6; i++) b[at + 148 + i] = s.charCodeAt(i);
  b[at + 154] = 0; b[at + 155] = 0x20;
}

export function putField(b: Uint8Array, at: number, field: Field, value: Uint8Array | string): void {
  const [off, len] = FIELD[field];
  const v = typeof value === 'string' ? enc.encode(value) : value;
  b.fill(0, at + off, at + off + len);
  b.set(v.subarray(0, len), at + off);
}

export function octal(v: number, len: number): string {
  return v.toString(8).padStart(len - 1, '0').slice(-(len - 1));
}

/** GNU base-256: 0x80 then the big-endian value (negative: two's complement with 0xff lead). */
export function base256(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = v < 0n ? (1n << BigInt(8 * len)) + v : v;
  for (let i = len - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  out[0] = v < 0n ? 0xff : (out[0] & 0x7f) | 0x80;
  return out;
}

export interface TarRecord {
  /** the entry's header blocks: PAX / GNU long-name headers with their data, then the main header */
  headers: Uint8Array;
  /** data and padding after the main header, as stored */
  data: Uint8Array;
}

export interface SplitTar {
  records: TarRecord[];
  /** end-of-archive blocks and whatever follows them (e.g. an eStargz TOC) */
  trailer: Uint8Array;
}

const META = new Set(['x', 'g', 'L', 'K']);
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

/** Splits a well-formed tar into records; null when it is not one (then only bytes can be mutated). */
export function splitTar(b: Uint8Array): SplitTar | null {
  const records: TarRecord[] = [];
  let p = 0;
  let start = 0;
  while (p + BLOCK <= b.length) {
    if (isZero(b, p)) return { records, trailer: b.slice(p) };
    if (!checksumValid(b, p)) return null;
    const tf = b[p + 156] === 0 ? '0' : String.fromCharCode(b[p + 156]);
    const size = NO_DATA.has(tf) ? 0 : readNumber(b, p + 124, 12);
    if (!Number.isSafeInteger(size)) return null;
    const end = p + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (end > b.length) return null;
    if (META.has(tf)) { p = end; continue; }
    records.push({ headers: b.slice(start, p + BLOCK), data: b.slice(p + BLOCK, end) });
    p = start = end;
  }
  return p === b.length ? { records, trailer: new Uint8Array(0) } : null;
}

export function joinTar(t: SplitTar): Uint8Array {
  return concat([...t.records.flatMap((r) => [r.headers, r.data]), t.trailer]);
}

/** The main (last) header block of a record, as a view: changes write through. */
export function mainHeader(r: TarRecord): Uint8Array {
  return r.headers.subarray(r.headers.length - BLOCK);
}

export function recordName(r: TarRecord): string {
  const h = mainHeader(r);
  const prefix = cstr(h, 345, 155);
  const name = cstr(h, 0, 100);
  return prefix && cstr(h, 257, 5) === 'ustar' ? `${prefix}/${name}` : name;
}

export function typeflagOf(r: TarRecord): string {
  const t = mainHeader(r)[156];
  return t === 0 ? '0' : String.fromCharCode(t);
}

/** A bare ustar header block (checksum set). */
export function header(fields: Partial<Record<Field, string | Uint8Array>>): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const defaults: Partial<Record<Field, string>> = {
    mode: octal(0o644, 8), uid: octal(0, 8), gid: octal(0, 8), size: octal(0, 12), mtime: octal(1700000000, 12),
    typeflag: '0', magic: 'ustar', version: '00',
  };
  for (const [k, v] of Object.entries({ ...defaults, ...fields })) putField(h, 0, k as Field, v!);
  fixChecksum(h);
  return h;
}

/** One PAX record "LEN key=value\n" with the right length. */
export function paxRecord(key: string, value: string | Uint8Array): Uint8Array {
  const v = typeof value === 'string' ? enc.encode(value) : value;
  const body = enc.encode(key).length + v.length + 3;
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return concat([enc.encode(`${len} ${key}=`), v, enc.encode('\n')]);
}

/** A meta entry (PAX x/g, GNU L/K): header + data padded to blocks; `declared` may lie about the size. */
export function metaEntry(typeflag: string, data: Uint8Array, declared = data.length): Uint8Array {
  const h = header({ name: typeflag === 'L' || typeflag === 'K' ? '././@LongLink' : 'PaxHeaders/x', typeflag, size: octal(declared, 12) });
  return concat([h, data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK)]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const PAX_NUMBER: Record<string, RegExp> = {
  size: /^\d+$/, uid: /^\d+$/, gid: /^\d+$/, 'SCHILY.devmajor': /^\d+$/, 'SCHILY.devminor': /^\d+$/,
  mtime: /^-?\d+(\.\d+)?$/, atime: /^-?\d+(\.\d+)?$/, ctime: /^-?\d+(\.\d+)?$/,
};

/**
 * What other tar readers would reject in a tar we wrote: records that do not split, PAX records
 * with a wrong length, numbers not in POSIX form ("1e+300", "-5" as a uid).
 */
export function writtenTarProblems(b: Uint8Array): string[] {
  const t = splitTar(b);
  if (!t) return ['it does not split into well-formed tar records'];
  const out: string[] = [];
  for (const rec of t.records) {
    for (let p = 0; p + BLOCK < rec.headers.length; ) {
      const tf = String.fromCharCode(rec.headers[p + 156]);
      const size = readNumber(rec.headers, p + 124, 12);
      const data = rec.headers.subarray(p + BLOCK, p + BLOCK + size);
      if (tf === 'x' || tf === 'g') {
        for (let q = 0; q < data.length; ) {
          const sp = data.indexOf(0x20, q);
          const len = Number(dec.decode(data.subarray(q, sp)));
          const rec = dec.decode(data.subarray(sp + 1, q + len - 1));
          if (!(len > 0) || data[q + len - 1] !== 0x0a) { out.push(`malformed PAX record at ${q} of ${JSON.stringify(dec.decode(data).slice(0, 80))}`); break; }
          const eq = rec.indexOf('=');
          const [key, value] = [rec.slice(0, eq), rec.slice(eq + 1)];
          if (PAX_NUMBER[key] && !PAX_NUMBER[key].test(value)) out.push(`PAX ${key}=${JSON.stringify(value.slice(0, 40))} is not a POSIX number`);
          q += len;
        }
      }
      p += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
  }
  return out;
}
