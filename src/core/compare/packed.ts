// A comparison's file list as columns, for crossing threads: one string of paths and typed arrays
// clone as memcpy, where 65k FileDiff objects took ~0.7 s to structured-clone (twice: worker →
// coordinator → page). Everything else of a Comparison is small and travels as it is.
import { CHANGE_WHATS, type ChangeWhat, type Comparison, type EntryType, type FileChange, type FileDiff, type FileState } from './types.ts';
import { FILE_TYPE_NAMES } from '../model.ts';

export interface PackedSide {
  /** 1 where the path exists on this side */
  has: Uint8Array;
  type: Uint8Array;
  mode: Uint16Array;
  uid: Uint32Array;
  gid: Uint32Array;
  size: Float64Array;
  mtime: Float64Array;
  /** content location; layer -1 when none */
  cLayer: Int16Array;
  cOffset: Float64Array;
  /** the rarer fields, by row */
  extra: { row: number; link?: string; dev?: [number, number]; xattrs?: string[]; sha256?: string }[];
}

export interface PackedFiles {
  count: number;
  /** the paths joined by NUL (no tar name holds one) */
  paths: string;
  change: Uint8Array;
  /** bit i: CHANGE_WHATS[i] */
  what: Uint8Array;
  pending: Uint8Array;
  a: PackedSide;
  b: PackedSide;
}

export type PackedComparison = Omit<Comparison, 'files'> & { files: PackedFiles };

const CHANGES: FileChange[] = ['added', 'modified', 'deleted'];

function packSide(files: FileDiff[], side: 'a' | 'b'): PackedSide {
  const n = files.length;
  const p: PackedSide = {
    has: new Uint8Array(n), type: new Uint8Array(n), mode: new Uint16Array(n), uid: new Uint32Array(n), gid: new Uint32Array(n),
    size: new Float64Array(n), mtime: new Float64Array(n), cLayer: new Int16Array(n).fill(-1), cOffset: new Float64Array(n), extra: [],
  };
  files.forEach((f, i) => {
    const s = f[side];
    if (!s) return;
    p.has[i] = 1;
    p.type[i] = FILE_TYPE_NAMES.indexOf(s.type);
    p.mode[i] = s.mode; p.uid[i] = s.uid; p.gid[i] = s.gid; p.size[i] = s.size; p.mtime[i] = s.mtime;
    if (s.content) { p.cLayer[i] = s.content.layer; p.cOffset[i] = s.content.offset; }
    if (s.link !== undefined || s.dev || s.xattrs || s.sha256) {
      p.extra.push({ row: i, ...(s.link !== undefined ? { link: s.link } : {}), ...(s.dev ? { dev: s.dev } : {}), ...(s.xattrs ? { xattrs: s.xattrs } : {}), ...(s.sha256 ? { sha256: s.sha256 } : {}) });
    }
  });
  return p;
}

export function packComparison(c: Comparison): PackedComparison {
  const n = c.files.length;
  const files: PackedFiles = {
    count: n, paths: c.files.map((f) => f.path).join('\0'),
    change: new Uint8Array(n), what: new Uint8Array(n), pending: new Uint8Array(n), a: packSide(c.files, 'a'), b: packSide(c.files, 'b'),
  };
  c.files.forEach((f, i) => {
    files.change[i] = CHANGES.indexOf(f.change);
    let bits = 0;
    for (const w of f.what) bits |= 1 << CHANGE_WHATS.indexOf(w);
    files.what[i] = bits;
    files.pending[i] = f.pending ? 1 : 0;
  });
  return { ...c, files };
}

function unpackSide(p: PackedSide, n: number): (FileState | null)[] {
  const out: (FileState | null)[] = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    if (!p.has[i]) continue;
    const s: FileState = { type: FILE_TYPE_NAMES[p.type[i]] as EntryType, mode: p.mode[i], uid: p.uid[i], gid: p.gid[i], size: p.size[i], mtime: p.mtime[i] };
    if (p.cLayer[i] >= 0) s.content = { layer: p.cLayer[i], offset: p.cOffset[i] };
    out[i] = s;
  }
  for (const { row, ...rest } of p.extra) Object.assign(out[row]!, rest);
  return out;
}

export function unpackComparison(p: PackedComparison): Comparison {
  const f = p.files;
  const paths = f.count ? f.paths.split('\0') : [];
  const a = unpackSide(f.a, f.count), b = unpackSide(f.b, f.count);
  const files: FileDiff[] = new Array(f.count);
  for (let i = 0; i < f.count; i++) {
    const what: ChangeWhat[] = [];
    for (let w = 0; w < CHANGE_WHATS.length; w++) if (f.what[i] & (1 << w)) what.push(CHANGE_WHATS[w]);
    const d: FileDiff = { path: paths[i], change: CHANGES[f.change[i]], what, a: a[i], b: b[i] };
    if (f.pending[i]) d.pending = true;
    files[i] = d;
  }
  return { ...p, files };
}
