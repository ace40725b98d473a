// The mutations: bytes (bit flips, truncation, runs, spliced blocks), outer tar headers, layer tar
// headers and records inside a layer (decompressed, damaged, compressed again the same way), and the
// JSON of manifests, indexes and configs. Each returns a short description for the case report.
import { spawnSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Rng } from './rng.ts';
import {
  BLOCK, FIELD, base256, concat, fixChecksum, mainHeader, metaEntry, octal, paxRecord, putField, readNumber, recordName,
  splitTar, joinTar, typeflagOf, type Field, type SplitTar,
} from './tar-blocks.ts';
import { fixup, parseOuter, serialize, setData, sha, type Member, type Outer } from './outer.ts';

const enc = new TextEncoder();
const utf8 = new TextDecoder();

// ---------------------------------------------------------------- bytes

/** A position: usually near a tar header (where structure is), else anywhere. */
function position(r: Rng, b: Uint8Array, headers: number[]): number {
  if (headers.length && r.chance(0.6)) return Math.min(b.length - 1, r.pick(headers) + r.int(BLOCK));
  return r.int(Math.max(1, b.length));
}

/** Offsets of header blocks, when `b` splits as a tar. */
export function headerOffsets(b: Uint8Array): number[] {
  const t = splitTar(b);
  if (!t) return [];
  const out: number[] = [];
  let p = 0;
  for (const rec of t.records) {
    for (let i = 0; i < rec.headers.length; i += BLOCK) out.push(p + i);
    p += rec.headers.length + rec.data.length;
  }
  out.push(p);
  return out;
}

export function mutateBytes(r: Rng, b: Uint8Array, other: () => Uint8Array, headers: number[] = []): { bytes: Uint8Array; what: string } {
  if (!b.length) return { bytes: r.bytes(r.range(1, 600)), what: 'random bytes for empty input' };
  const op = r.weighted([[3, 'flip'], [2, 'truncate'], [2, 'run'], [1, 'splice'], [1, 'splice-other'], [1, 'delete'], [1, 'insert']] as const);
  const at = position(r, b, headers);
  const len = r.chance(0.5) ? r.range(1, 16) : r.chance(0.7) ? r.range(17, 1024) : r.range(1025, 16384);
  switch (op) {
    case 'flip': {
      const c = b.slice();
      const n = r.range(1, 16);
      for (let i = 0; i < n; i++) { const p = r.chance(0.5) ? at + r.int(64) : position(r, b, headers); c[Math.min(p, c.length - 1)] ^= 1 << r.int(8); }
      return { bytes: c, what: `${n} bit flips near ${at}` };
    }
    case 'truncate': {
      const cut = r.chance(0.3) ? Math.min(b.length - 1, Math.floor(at / BLOCK) * BLOCK + r.range(-2, 2) * BLOCK) : at;
      return { bytes: b.slice(0, Math.max(0, cut)), what: `truncated to ${Math.max(0, cut)} of ${b.length}` };
    }
    case 'run': {
      const c = b.slice();
      const fill = r.pick(['00', 'ff', 'random'] as const);
      const end = Math.min(c.length, at + len);
      if (fill === 'random') c.set(r.bytes(end - at), at); else c.fill(fill === '00' ? 0 : 0xff, at, end);
      return { bytes: c, what: `run of ${end - at} ${fill} bytes at ${at}` };
    }
    case 'splice': {
      const c = b.slice();
      const from = r.chance(0.5) && headers.length ? r.pick(headers) : r.int(b.length);
      const to = r.chance(0.5) ? Math.floor(at / BLOCK) * BLOCK : at;
      const piece = b.slice(from, from + len);
      c.set(piece.subarray(0, Math.max(0, c.length - to)), to);
      return { bytes: c, what: `block [${from}, +${piece.length}) copied over ${to}` };
    }
    case 'splice-other': {
      const src = other();
      const from = r.int(Math.max(1, src.length));
      const piece = src.slice(from, from + len);
      const insert = r.chance(0.4);
      const bytes = insert ? concat([b.subarray(0, at), piece, b.subarray(at)]) : (() => { const c = b.slice(); c.set(piece.subarray(0, Math.max(0, c.length - at)), at); return c; })();
      return { bytes, what: `${piece.length} bytes of another fixture ${insert ? 'inserted at' : 'over'} ${at}` };
    }
    case 'delete':
      return { bytes: concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]), what: `deleted [${at}, +${len})` };
    case 'insert':
      return { bytes: concat([b.subarray(0, at), r.chance(0.5) ? new Uint8Array(len) : r.bytes(len), b.subarray(at)]), what: `${len} bytes inserted at ${at}` };
  }
}

// ---------------------------------------------------------------- tar header fields

const NAMES = [
  '../../etc/passwd', 'a/../../b', '..', '/', '.', '', './', '//x//y', '.wh.', 'dir/.wh.', '.wh..', '.wh...',
  '.wh..wh..opq', 'x/.wh..wh..opq', '.wh..wh.plnk/1', 'etc/.wh.passwd', 'bin/', 'a/b/c/d/e/f/g/h/i/j/k',
  'x'.repeat(100), '\u00ff\u00fe', 'var/lib/dpkg/status', 'etc/os-release', 'lib/apk/db/installed', '.env',
];
const LINKS = ['', '../../../etc/shadow', 'nowhere', '/', '.', '..', 'x'.repeat(100), 'bin', 'etc/passwd', '/bin/busybox'];
const TYPEFLAGS = ['0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K', 'S', 'M', 'D', 'V', 'N', 'A', '\0', 'Z'];

/** A value for a numeric field of `len` bytes. */
function numberValue(r: Rng, len: number, current: number): { v: Uint8Array | string; what: string } {
  const choice = r.int(14);
  switch (choice) {
    case 0: return { v: octal(0, len), what: '0' };
    case 1: return { v: octal(Math.max(0, current + r.pick([1, -1, 511, 512, 513, -512, 4096])), len), what: 'near the original' };
    case 2: return { v: '7'.repeat(len - 1), what: 'the largest octal' };
    case 3: return { v: octal(2 ** 33 - 1, len), what: '8 GiB' };
    case 4: return { v: base256(BigInt(r.pick([2 ** 31, 2 ** 40, 2 ** 52])), len), what: 'base-256 large' };
    case 5: return { v: base256(2n ** 62n + 7n, len), what: 'base-256 beyond 2^53' };
    case 6: return { v: base256(BigInt(-r.range(1, 4096)), len), what: 'base-256 negative' };
    case 7: return { v: r.pick(['9', '8x', '-1', '0x10', '1e9', '+7', '12 34']), what: 'not octal' };
    case 8: return { v: ' '.repeat(len), what: 'spaces' };
    case 9: return { v: new Uint8Array(len), what: 'NULs' };
    case 10: return { v: r.bytes(len), what: 'random bytes' };
    case 11: return { v: octal(r.int(1 << 20), len), what: 'random small' };
    case 12: return { v: '7'.repeat(len), what: 'octal without terminator' };
    default: return { v: base256(BigInt(r.int(1 << 16)), len), what: 'base-256 small' };
  }
}

/** Damages one field of the header block `h` (a view); fixes the checksum unless told not to. */
function damageHeader(r: Rng, h: Uint8Array, names: string[]): string {
  const field = r.weighted<Field | 'chksum-off'>([
    [6, 'size'], [4, 'typeflag'], [4, 'name'], [2, 'linkname'], [2, 'mode'], [1, 'uid'], [1, 'gid'], [1, 'mtime'],
    [1, 'devmajor'], [1, 'devminor'], [2, 'magic'], [1, 'prefix'], [2, 'chksum'], [1, 'chksum-off'],
  ]);
  let what: string;
  if (field === 'chksum-off') {
    h[FIELD.chksum[0] + r.int(6)] ^= 1 << r.int(3);
    return 'checksum digit changed';
  }
  const [off, len] = FIELD[field];
  if (field === 'size' || field === 'mode' || field === 'uid' || field === 'gid' || field === 'mtime' || field === 'devmajor' || field === 'devminor' || field === 'chksum') {
    const { v, what: w } = numberValue(r, len, readNumber(h, off, len));
    putField(h, 0, field, v);
    what = `${field} = ${w}`;
    if (field === 'chksum') return what;
  } else if (field === 'typeflag') {
    const t = r.chance(0.9) ? r.pick(TYPEFLAGS) : String.fromCharCode(r.int(256));
    h[off] = t.charCodeAt(0);
    what = `typeflag = ${JSON.stringify(t)}`;
  } else if (field === 'name' || field === 'linkname') {
    const pool = field === 'name' ? NAMES : LINKS;
    const v = r.chance(0.4) && names.length ? (r.chance(0.5) ? r.pick(names) : `${r.pick(names)}/${r.pick(NAMES)}`) : r.pick(pool);
    putField(h, 0, field, v);
    what = `${field} = ${JSON.stringify(v.slice(0, 40))}`;
  } else if (field === 'magic') {
    const v = r.pick(['ustar\0', 'ustar ', 'junk!!', '\0\0\0\0\0\0']);
    putField(h, 0, 'magic', v);
    putField(h, 0, 'version', v === 'ustar ' ? ' \0' : r.pick(['00', '\0\0', 'zz']));
    what = `magic = ${JSON.stringify(v)}`;
  } else {
    const v = r.pick(['../..', 'x'.repeat(155), 'usr', '']);
    putField(h, 0, 'prefix', v);
    if (r.chance(0.7)) { putField(h, 0, 'magic', 'ustar\0'); putField(h, 0, 'version', '00'); }
    what = `prefix = ${JSON.stringify(v.slice(0, 20))}`;
  }
  if (r.chance(0.85)) fixChecksum(h);
  else what += ' (checksum left stale)';
  return what;
}

// ---------------------------------------------------------------- records inside a layer

const PAX_RECORDS: (() => [string, string | Uint8Array])[] = [
  () => ['path', '../../x'], () => ['path', ''], () => ['path', '.wh.foo'], () => ['path', 'a/b/../../../c'], () => ['path', 'p/'.repeat(2500)],
  () => ['linkpath', '../../y'], () => ['linkpath', 'nowhere'], () => ['linkpath', ''],
  () => ['size', '-1'], () => ['size', '1.5'], () => ['size', '1e30'], () => ['size', 'NaN'], () => ['size', '99999999999999999999'],
  () => ['size', '0'], () => ['size', '513'], () => ['size', '0x20'], () => ['size', ' 12'],
  () => ['uid', '-5'], () => ['uid', '1e20'], () => ['gid', 'abc'], () => ['uid', '4294967296'],
  () => ['mtime', '1e400'], () => ['mtime', '-1e15'], () => ['mtime', '1.5'], () => ['mtime', ''], () => ['mtime', '1e300'], () => ['mtime', '-0.000000001'],
  () => ['SCHILY.devmajor', '-1'], () => ['SCHILY.devminor', '1e12'], () => ['GNU.sparse.size', '10'], () => ['GNU.sparse.major', '1'],
  () => ['SCHILY.xattr.user.bin', Uint8Array.of(0, 255, 10, 61)], () => ['SCHILY.xattr.', 'x'], () => ['SCHILY.xattr.security.capability', new Uint8Array(20)],
  () => ['LIBARCHIVE.xattr.user%ZZ', 'YWJj'], () => ['LIBARCHIVE.xattr.user.a', '@@@@'], () => ['LIBARCHIVE.xattr.user.b', 'YW'],
  () => ['hdrcharset', 'BINARY'], () => ['comment', '\u0000\u0001'], () => ['', 'empty key'], () => ['=', '='],
];

function paxData(r: Rng): { data: Uint8Array; what: string } {
  const n = r.range(1, 3);
  const parts: Uint8Array[] = [];
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const [k, v] = r.pick(PAX_RECORDS)();
    keys.push(k);
    parts.push(paxRecord(k, v));
  }
  let data = concat(parts);
  let framing = '';
  if (r.chance(0.3)) {
    const broken = r.pick([
      () => enc.encode('99999 path=x\n'), () => enc.encode('0 path=x\n'), () => enc.encode('-5 path=x\n'), () => enc.encode('12 pathx\n'),
      () => enc.encode('11 path=xyz'), () => enc.encode('abc path=x\n'), () => enc.encode('99999999999999999999 a=b\n'),
      () => enc.encode('5 a=b\n'), () => enc.encode(' 8 a=b\n'), () => new Uint8Array(0), () => enc.encode('6 =x\n'),
    ]);
    const b = broken();
    data = r.chance(0.5) ? concat([data, b]) : concat([b, data]);
    framing = ` + framing ${JSON.stringify(utf8.decode(b).slice(0, 16))}`;
  }
  return { data, what: `PAX ${keys.join(',')}${framing}` };
}

function declaredSize(r: Rng, actual: number): { size: number; what: string } {
  const c = r.int(10);
  if (c < 6) return { size: actual, what: '' };
  if (c === 6) return { size: actual + r.range(1, 1024), what: ', declared larger' };
  if (c === 7) return { size: Math.max(0, actual - r.range(1, 64)), what: ', declared smaller' };
  if (c === 8) return { size: 2 ** 33 - 1, what: ', declared 8 GiB' };
  return { size: 70 << 20, what: ', declared 70 MiB' };
}

/** One change to the records of a layer tar. */
function mutateLayerTar(r: Rng, t: SplitTar): string {
  const names = t.records.map(recordName);
  const recs = t.records;
  const op = r.weighted([[9, 'header'], [3, 'pax'], [2, 'longname'], [2, 'records'], [1, 'trailer']] as const);
  if (!recs.length && op !== 'trailer') {
    recs.push({ headers: metaEntry('0', new Uint8Array(0)).subarray(0, BLOCK).slice(), data: new Uint8Array(0) });
    return 'an empty layer got one empty file';
  }
  const i = r.int(recs.length);
  const rec = recs[i];
  const name = names[i];
  switch (op) {
    case 'header': {
      const h = mainHeader(rec);
      return `entry ${i} "${name.slice(0, 40)}" (${JSON.stringify(typeflagOf(rec))}): ${damageHeader(r, h, names)}`;
    }
    case 'pax': {
      const { data, what } = paxData(r);
      const decl = declaredSize(r, data.length);
      const meta = metaEntry(r.chance(0.85) ? 'x' : 'g', data, decl.size);
      rec.headers = concat([meta, rec.headers]);
      return `entry ${i} "${name.slice(0, 40)}": ${what}${decl.what}`;
    }
    case 'longname': {
      const which = r.chance(0.7) ? 'L' : 'K';
      const target = r.chance(0.5) ? r.pick(NAMES) : r.chance(0.5) ? 'long/'.repeat(60) + 'name' : r.pick(names);
      const data = r.chance(0.8) ? concat([enc.encode(target), new Uint8Array(1)]) : enc.encode(target);
      const decl = declaredSize(r, data.length);
      const meta = metaEntry(which, data, decl.size);
      if (r.chance(0.15)) { const h = meta.subarray(0, BLOCK); putField(h, 0, 'size', base256(2n ** 40n, 12)); fixChecksum(h); }
      rec.headers = concat([meta, rec.headers]);
      return `entry ${i} "${name.slice(0, 40)}": GNU ${which} ${JSON.stringify(target.slice(0, 30))}${decl.what}`;
    }
    case 'records': {
      const how = r.pick(['duplicate', 'drop', 'to-front', 'to-back', 'reverse', 'swap'] as const);
      if (how === 'duplicate') recs.splice(r.int(recs.length + 1), 0, { headers: rec.headers.slice(), data: rec.data.slice() });
      else if (how === 'drop') recs.splice(i, 1);
      else if (how === 'to-front') { recs.splice(i, 1); recs.unshift(rec); }
      else if (how === 'to-back') { recs.splice(i, 1); recs.push(rec); }
      else if (how === 'reverse') recs.reverse();
      else { const j = r.int(recs.length); [recs[i], recs[j]] = [recs[j], recs[i]]; }
      return `records: ${how} entry ${i} "${name.slice(0, 40)}"`;
    }
    case 'trailer': {
      const how = r.pick(['none', 'one block', 'junk after', 'zeros then junk'] as const);
      t.trailer = how === 'none' ? new Uint8Array(0)
        : how === 'one block' ? new Uint8Array(BLOCK)
        : how === 'junk after' ? concat([new Uint8Array(2 * BLOCK), r.bytes(r.range(1, 3000))])
        : concat([new Uint8Array(BLOCK), r.bytes(BLOCK)]);
      return `trailer: ${how}`;
    }
  }
}

// ---------------------------------------------------------------- compression

function zstd(args: string[], input: Uint8Array): Uint8Array | null {
  const p = spawnSync('zstd', [...args, '-q', '-c'], { input, maxBuffer: 256 << 20 });
  return p.status === 0 ? new Uint8Array(p.stdout) : null;
}

export function decompress(kind: Member['kind'], data: Uint8Array): Uint8Array | null {
  try {
    if (kind === 'layer-gzip') return new Uint8Array(gunzipSync(data));
    if (kind === 'layer-zstd') return zstd(['-d'], data);
    return data;
  } catch {
    return null;
  }
}

export function compress(kind: Member['kind'], data: Uint8Array, r: Rng): Uint8Array | null {
  if (kind === 'layer-gzip') return new Uint8Array(gzipSync(data, { level: r.pick([1, 6]) }));
  if (kind === 'layer-zstd') return zstd(['-1'], data);
  return data;
}

/** Damage to a compressed stream itself: CRC, truncation, junk, padding, multi-member splits. */
function mutateCompressed(r: Rng, kind: Member['kind'], raw: Uint8Array, packed: Uint8Array, other: () => Uint8Array): { bytes: Uint8Array; what: string } {
  const op = r.weighted([[3, 'bytes'], [1, 'trailer'], [1, 'multi'], [1, 'padding'], [1, 'junk']] as const);
  if (op === 'trailer' && kind === 'layer-gzip') {
    const c = packed.slice();
    const at = c.length - 1 - r.int(8);
    c[at] ^= 1 << r.int(8);
    return { bytes: c, what: `gzip ${at >= c.length - 4 ? 'ISIZE' : 'CRC'} byte changed` };
  }
  if (op === 'multi' && kind === 'layer-gzip') {
    const cut = r.int(raw.length + 1);
    return { bytes: concat([gzipSync(raw.subarray(0, cut)), gzipSync(raw.subarray(cut))]), what: `two gzip members split at ${cut}` };
  }
  if (op === 'padding') return { bytes: concat([packed, new Uint8Array(r.range(1, 8192))]), what: 'zero padding after the stream' };
  if (op === 'junk') return { bytes: concat([packed, r.bytes(r.range(1, 64))]), what: 'junk after the stream' };
  const m = mutateBytes(r, packed, other);
  return { bytes: m.bytes, what: `compressed stream: ${m.what}` };
}

// ---------------------------------------------------------------- JSON

type Json = unknown;
/** a placeholder value; its JSON text is replaced by deep nesting after serialising */
const DEEP = '__strata_fuzz_deep__';

function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = [], depth = 0): (string | number)[][] {
  out.push(at);
  if (depth > 12 || !v || typeof v !== 'object') return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out, depth + 1));
  else for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out, depth + 1);
  return out;
}

/** `old` as JSON text; a value an earlier mutation nested too deep to print becomes "deep" */
function stringified(old: Json): string {
  try { return JSON.stringify(old) ?? 'null'; } catch { return 'deep'; }
}

function replacement(r: Rng, old: Json): { v: Json; what: string } {
  const c = r.int(16);
  switch (c) {
    case 0: return { v: null, what: 'null' };
    case 1: return { v: r.pick([0, -1, 1.5, 1e308, 2 ** 64, -(2 ** 53)]), what: 'a number' };
    case 2: return { v: r.pick(['', 'x', '../../etc/passwd', 'sha256:' + 'z'.repeat(64), 'sha256:', 'blobs/sha256/../../index.json']), what: 'a string' };
    case 3: return { v: [], what: '[]' };
    case 4: return { v: {}, what: '{}' };
    case 5: return { v: true, what: 'true' };
    case 6: return { v: DEEP, what: 'deep nesting' };
    case 7: return { v: 'x'.repeat(r.pick([1000, 200_000])), what: 'a long string' };
    case 8: return { v: [old, old], what: 'doubled into an array' };
    case 9: return { v: typeof old === 'number' ? String(old) : typeof old === 'string' ? Number(old.length) : stringified(old), what: 'retyped' };
    case 10: return { v: Array.isArray(old) ? Object.fromEntries(old.map((x, i) => [String(i), x])) : old && typeof old === 'object' ? Object.values(old) : [old], what: 'array/object swapped' };
    // a dozen, not thousands: a manifest listing one 2 MB layer 2000 times is 4 GB of honest work
    case 11: return { v: Array.isArray(old) ? Array.from({ length: 12 }, () => old[0] ?? null) : [old], what: 'many copies' };
    case 12: {
      // an own "__proto__" key, as JSON.parse makes it
      const o: Record<string, Json> = { ...(old && typeof old === 'object' ? old : {}) };
      Object.defineProperty(o, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
      return { v: o, what: '__proto__ key' };
    }
    default: return { v: undefined, what: 'removed' };
  }
}

export function mutateJson(r: Rng, text: string): { text: string; what: string } {
  let doc: Json;
  try { doc = JSON.parse(text); } catch { doc = undefined; }
  if (doc === undefined || r.chance(0.12)) {
    const whole = r.pick([
      () => ({ t: 'null', w: 'null document' }), () => ({ t: '[]', w: 'empty array' }), () => ({ t: '{}', w: 'empty object' }),
      () => ({ t: '"str"', w: 'a string document' }), () => ({ t: '12', w: 'a number document' }),
      () => ({ t: text.slice(0, r.int(text.length)), w: 'truncated text' }), () => ({ t: '\ufeff' + text, w: 'BOM' }),
      () => ({ t: text + ' garbage', w: 'trailing garbage' }), () => ({ t: '['.repeat(100_000), w: 'unclosed deep nesting' }),
    ])();
    return { text: whole.t, what: whole.w };
  }
  const ps = paths(doc);
  const p = r.pick(ps.slice(1).length ? ps.slice(1) : ps);
  const { v, what } = replacement(r, p.reduce<Json>((o, k) => (o as Record<string | number, Json>)[k], doc));
  if (!p.length) doc = v;
  else {
    const parent = p.slice(0, -1).reduce<Json>((o, k) => (o as Record<string | number, Json>)[k], doc) as Record<string | number, Json>;
    const k = p[p.length - 1];
    if (v === undefined) { if (Array.isArray(parent)) parent.splice(Number(k), 1); else delete parent[k]; }
    else parent[k] = v;
  }
  let out: string;
  try {
    out = JSON.stringify(doc) ?? 'null';
  } catch {
    // nested too deep to write back (an earlier step's deep nesting: JSON.parse reads 60 000 levels,
    // JSON.stringify overflows the stack): the document cut short instead
    return { text: text.slice(0, r.int(text.length)), what: 'truncated text (too deep to edit)' };
  }
  if (out.includes(`"${DEEP}"`)) { const d = r.pick([3000, 60_000]); out = out.replace(`"${DEEP}"`, '['.repeat(d) + '1' + ']'.repeat(d)); }
  return { text: out, what: `${p.map(String).join('.').slice(0, 60) || '(root)'} ${what}` };
}

// ---------------------------------------------------------------- a whole case

export interface Fixture { name: string; bytes: Uint8Array; wrapper: 'none' | 'gzip'; inner: Uint8Array }

export interface Mutation { bytes: Uint8Array; steps: string[] }

/** Damages one layer (inside its compression); records its diff_id change in `renames`. */
function layerMutation(r: Rng, o: Outer, other: () => Uint8Array, renames: Map<string, string>): string | null {
  const layers = o.members.filter((m) => m.kind.startsWith('layer-'));
  if (!layers.length) return null;
  const m = r.pick(layers);
  const raw = decompress(m.kind, m.data);
  if (!raw) return null;
  const label = `layer ${m.name.slice(0, 30)}`;
  let packed: Uint8Array | null;
  let what: string;
  if (r.chance(0.2)) {
    const c = mutateCompressed(r, m.kind, raw, m.data, other);
    packed = c.bytes;
    what = `${label}: ${c.what}`;
  } else {
    let tar: Uint8Array;
    const t = splitTar(raw);
    if (t && r.chance(0.85)) {
      const n = r.chance(0.75) ? 1 : r.range(2, 4);
      const parts: string[] = [];
      for (let k = 0; k < n; k++) parts.push(mutateLayerTar(r, t));
      tar = joinTar(t);
      what = `${label}: ${parts.join('; ')}`;
    } else {
      const b = mutateBytes(r, raw, other, headerOffsets(raw));
      tar = b.bytes;
      what = `${label} (uncompressed): ${b.what}`;
    }
    packed = compress(m.kind, tar, r);
    renames.set(sha(raw), sha(tar));
  }
  if (!packed) return null;
  setData(m, packed);
  return what;
}

function jsonMutation(r: Rng, o: Outer): string | null {
  const jsons = o.members.filter((m) => m.kind === 'json');
  if (!jsons.length) return null;
  const m = r.pick(jsons);
  const { text, what } = mutateJson(r, utf8.decode(m.data));
  setData(m, enc.encode(text));
  return `${m.name.slice(0, 40)}: ${what}`;
}

/** The outer tar's records: header fields, PAX and GNU names of members, order, end marker. */
function outerHeaderMutation(r: Rng, bytes: Uint8Array): { bytes: Uint8Array; what: string } | null {
  const t = splitTar(bytes);
  if (!t?.records.length) return null;
  const what = `outer ${mutateLayerTar(r, t)}`;
  return { bytes: joinTar(t), what };
}

/** One case's input: the fixture with one (sometimes two) mutations, maybe wrapped in gzip/zstd. */
export function mutate(r: Rng, f: Fixture, others: Fixture[]): Mutation {
  const steps: string[] = [];
  const other = () => r.pick(others).inner;
  const kind = r.weighted([[25, 'bytes'], [10, 'outer-header'], [45, 'layer'], [20, 'json']] as const);
  let inner: Uint8Array | null = null;
  if (kind === 'layer' || kind === 'json') {
    const o = parseOuter(f.inner);
    const renames = new Map<string, string>();
    const change = () => (kind === 'layer' ? layerMutation(r, o!, other, renames) : jsonMutation(r, o!));
    const first = o && change();
    if (o && first) {
      steps.push(first);
      if (r.chance(0.1)) {
        const second = r.chance(0.5) ? layerMutation(r, o, other, renames) : jsonMutation(r, o);
        if (second) steps.push(second);
      }
      if (r.chance(0.7)) { fixup(o, renames); steps.push('digests fixed up'); } else steps.push('digests left stale');
      inner = serialize(o);
    }
  } else if (kind === 'outer-header') {
    const h = outerHeaderMutation(r, f.inner);
    if (h) { steps.push(h.what); inner = h.bytes; }
  }
  if (!inner) {
    const b = mutateBytes(r, f.inner, other, headerOffsets(f.inner));
    steps.push(b.what);
    inner = b.bytes;
  }
  let bytes = inner;
  if (f.wrapper === 'gzip' ? r.chance(0.9) : r.chance(0.08)) {
    const z = f.wrapper === 'gzip' || r.chance(0.6) ? 'gzip' : 'zstd';
    const wrapped = z === 'gzip' ? new Uint8Array(gzipSync(inner, { level: 1 })) : zstd(['-1'], inner);
    if (wrapped) { bytes = wrapped; steps.push(`${z}-wrapped`); }
    if (wrapped && r.chance(0.15)) { const b = mutateBytes(r, bytes, other); bytes = b.bytes; steps.push(`wrapper: ${b.what}`); }
  }
  return { bytes, steps };
}
