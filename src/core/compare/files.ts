// The file part of a comparison: a merge-join over the two merged trees' children (each list
// sorted by name bytes), O(paths), reading no content. A regular file whose size is the same on
// both sides and whose content comes from different sources (another layer blob, another offset)
// is left `pending`: only a hash can tell (content.ts).
import { FileType, FILE_TYPE_NAMES, type EncodedTree, type ImageMeta } from '../model.ts';
import type { FileTree } from '../tree/file-tree.ts';
import { compareNodeNames, type TreeIndex } from '../tree/tree-index.ts';
import type { ChangeWhat, FileCounts, FileDiff, FileState, SizeRow } from './types.ts';

export interface CompareInput {
  meta: ImageMeta;
  tree: FileTree;
  /** 0-based layer the side is taken at */
  layer: number;
  /** names the image (a stored image's id; a file and image index): equal ids are one image */
  id: string;
}

export type SideKey = 'a' | 'b';

/** One side as the join reads it. */
export class JoinSide {
  readonly t: EncodedTree;
  readonly ix: TreeIndex;
  readonly live: Uint8Array;
  /** per layer: what makes two layers' content the same blob (the diff_id), null when unknown */
  readonly layerKeys: (string | null)[];
  /** per layer: a small number naming its blob, shared by both sides (numeric source keys) */
  readonly blobIds: Int32Array;

  constructor(readonly input: CompareInput, sameImage: boolean, side: SideKey, ids: Map<string, number>) {
    this.t = input.tree.tree;
    this.ix = input.tree.index;
    this.live = input.tree.liveAt(input.layer);
    this.layerKeys = Array.from({ length: this.t.layerCount }, (_, i) =>
      input.meta.layers[i]?.diffId ?? (sameImage ? `#${i}` : null));
    this.blobIds = Int32Array.from(this.layerKeys, (k, i) => {
      const key = k ?? `${side}#${i}`;
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      return id;
    });
  }

  get k(): number { return this.input.layer; }

  inode(node: number): number { return this.ix.inodeAt(node, this.input.layer); }

  /** a content source's identity: the same blob and offset on both sides is the same content
   *  (a number: blob id × 2⁴² + offset, exact for offsets below 4 TiB and 2,048 blobs) */
  sourceKey(layer: number, offset: number): number {
    return this.blobIds[layer] * 2 ** 42 + offset;
  }
}

const EMPTY = new Uint32Array(0);

export interface FileJoinResult {
  files: FileDiff[];
  counts: FileCounts;
  sizeA: number;
  sizeB: number;
  topLevel: SizeRow[];
}

export function joinFiles(A: JoinSide, B: JoinSide): FileJoinResult {
  return new FileJoin(A, B).run();
}

class FileJoin {
  private readonly out: FileDiff[] = [];
  private readonly sameTree: boolean;

  constructor(private readonly A: JoinSide, private readonly B: JoinSide) {
    this.sameTree = A.t === B.t;
  }

  run(): FileJoinResult {
    this.dir(0, 0, '');
    const files = this.out.sort((x, y) => comparePaths(x.path, y.path));
    return {
      files, counts: countFiles(files),
      sizeA: this.A.input.tree.dirSize(0, this.A.k), sizeB: this.B.input.tree.dirSize(0, this.B.k),
      topLevel: this.topLevel(),
    };
  }

  /** Children of directory `na` (A) and `nb` (B), -1 where that side has none, matched by name. */
  private dir(na: number, nb: number, path: string): void {
    const { A, B } = this;
    const ka = na >= 0 ? A.ix.children(na) : EMPTY;
    const kb = nb >= 0 ? B.ix.children(nb) : EMPTY;
    let i = 0, j = 0;
    while (i < ka.length || j < kb.length) {
      if (i < ka.length && !A.live[ka[i]]) { i++; continue; }
      if (j < kb.length && !B.live[kb[j]]) { j++; continue; }
      const c = i >= ka.length ? 1 : j >= kb.length ? -1 : this.sameTree && ka[i] === kb[j] ? 0 : compareNodeNames(A.t, ka[i], B.t, kb[j]);
      if (c < 0) this.only('a', ka[i++], path);
      else if (c > 0) this.only('b', kb[j++], path);
      else this.pair(ka[i++], kb[j++], path);
    }
  }

  private pair(a: number, b: number, parent: string): void {
    const { A, B } = this;
    const path = `${parent}/${A.ix.name(a)}`;
    const ia = A.inode(a), ib = B.inode(b);
    const ta = A.t.iType[ia] as FileType, tb = B.t.iType[ib] as FileType;
    // one inode in one tree: the same entry, nothing about the path itself can differ
    if (!(this.sameTree && ia === ib)) {
      const { what, pending } = this.differences(ia, ib);
      if (what.length || pending) {
        const d: FileDiff = { path, change: 'modified', what, a: state(A, a, ia), b: state(B, b, ib) };
        if (pending) d.pending = true;
        this.out.push(d);
      }
    }
    if (ta === FileType.Dir && tb === FileType.Dir) this.dir(a, b, path);
    else if (ta === FileType.Dir) this.dir(a, -1, path);
    else if (tb === FileType.Dir) this.dir(-1, b, path);
  }

  /** A path only one side has: it and everything below it are added or deleted. */
  private only(side: SideKey, node: number, parent: string): void {
    const s = side === 'a' ? this.A : this.B;
    const path = `${parent}/${s.ix.name(node)}`;
    const ino = s.inode(node);
    const st = state(s, node, ino);
    this.out.push(side === 'a'
      ? { path, change: 'deleted', what: [], a: st, b: null }
      : { path, change: 'added', what: [], a: null, b: st });
    if (s.t.iType[ino] === FileType.Dir) this.dir(side === 'a' ? node : -1, side === 'b' ? node : -1, path);
  }

  /** What differs between two inodes (mtime never counts); `pending` when only a hash can tell. */
  private differences(ia: number, ib: number): { what: ChangeWhat[]; pending: boolean } {
    const a = this.A.t, b = this.B.t;
    const what: ChangeWhat[] = [];
    let pending = false;
    const ta = a.iType[ia] as FileType, tb = b.iType[ib] as FileType;
    if (ta !== tb) what.push('type');
    else if (ta === FileType.File) {
      if (a.iSize[ia] !== b.iSize[ib]) what.push('content');
      else if (a.iSize[ia] > 0 && !this.sameSource(ia, ib)) pending = true;
    } else if (ta === FileType.Symlink) {
      if (this.A.ix.linkTarget(ia) !== this.B.ix.linkTarget(ib)) what.push('link');
    } else if (ta === FileType.Char || ta === FileType.Block) {
      if (a.iDevMajor[ia] !== b.iDevMajor[ib] || a.iDevMinor[ia] !== b.iDevMinor[ib]) what.push('device');
    }
    // a symlink's own mode means nothing on Linux (lstat shows 0777 whatever the tar said)
    if (ta !== FileType.Symlink && tb !== FileType.Symlink && (a.iMode[ia] & 0o7777) !== (b.iMode[ib] & 0o7777)) what.push('mode');
    if (a.iUid[ia] !== b.iUid[ib] || a.iGid[ia] !== b.iGid[ib]) what.push('owner');
    if (!sameXattrs(this.A.ix.xattrsOf(ia), this.B.ix.xattrsOf(ib))) what.push('xattrs');
    return { what, pending };
  }

  private sameSource(ia: number, ib: number): boolean {
    const a = this.A.t, b = this.B.t;
    if (a.iLayer[ia] < 0 || b.iLayer[ib] < 0) return a.iLayer[ia] === b.iLayer[ib];
    const ka = this.A.layerKeys[a.iLayer[ia]];
    return ka !== null && ka === this.B.layerKeys[b.iLayer[ib]] && a.iOffset[ia] === b.iOffset[ib];
  }

  private topLevel(): SizeRow[] {
    const { A, B } = this;
    const rows: SizeRow[] = [];
    const size = (s: JoinSide, n: number) => (n < 0 ? 0 : s.input.tree.rowSize(n, s.k));
    const ka = A.ix.children(0), kb = B.ix.children(0);
    let i = 0, j = 0;
    while (i < ka.length || j < kb.length) {
      if (i < ka.length && !A.live[ka[i]]) { i++; continue; }
      if (j < kb.length && !B.live[kb[j]]) { j++; continue; }
      const c = i >= ka.length ? 1 : j >= kb.length ? -1 : compareNodeNames(A.t, ka[i], B.t, kb[j]);
      const na = c <= 0 ? ka[i++] : -1, nb = c >= 0 ? kb[j++] : -1;
      const row = { path: `/${na >= 0 ? A.ix.name(na) : B.ix.name(nb)}`, a: size(A, na), b: size(B, nb) };
      if (row.a || row.b) rows.push(row);
    }
    return rows.sort((x, y) => comparePaths(x.path, y.path));
  }
}

function state(s: JoinSide, node: number, ino: number): FileState {
  const t = s.t;
  const type = t.iType[ino] as FileType;
  const st: FileState = {
    type: FILE_TYPE_NAMES[type], mode: t.iMode[ino] & 0o7777, uid: t.iUid[ino], gid: t.iGid[ino],
    size: type === FileType.Dir ? s.input.tree.dirSize(node, s.k) : t.iSize[ino], mtime: t.iMtime[ino],
  };
  const link = s.ix.linkTarget(ino);
  if (link !== undefined) st.link = link;
  if (type === FileType.Char || type === FileType.Block) st.dev = [t.iDevMajor[ino], t.iDevMinor[ino]];
  const xa = s.ix.xattrsOf(ino);
  if (xa) st.xattrs = Object.keys(xa).sort();
  if (type === FileType.File && t.iLayer[ino] >= 0) st.content = { layer: t.iLayer[ino], offset: t.iOffset[ino] };
  return st;
}

function sameXattrs(x: Record<string, Uint8Array> | null, y: Record<string, Uint8Array> | null): boolean {
  if (!x || !y) return !x && !y;
  const kx = Object.keys(x), ky = Object.keys(y);
  if (kx.length !== ky.length) return false;
  for (const k of kx) {
    const a = x[k], b = y[k];
    if (!b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  }
  return true;
}

export function countFiles(files: FileDiff[]): FileCounts {
  const c: FileCounts = { added: 0, modified: 0, deleted: 0, pending: 0 };
  for (const f of files) {
    if (f.change === 'modified' && !f.what.length) c.pending++;
    else c[f.change]++;
  }
  return c;
}


/**
 * Paths in the order of their UTF-8 bytes (the expected listings' `LC_ALL=C sort`). UTF-16 code
 * units already sort that way except surrogates against U+E000–U+FFFF, which are swapped here.
 */
export function comparePaths(x: string, y: string): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    let a = x.charCodeAt(i), b = y.charCodeAt(i);
    if (a === b) continue;
    if (a >= 0xd800 && b >= 0xd800) {
      a = a >= 0xe000 ? a - 0x800 : a + 0x2000;
      b = b >= 0xe000 ? b - 0x800 : b + 0x2000;
    }
    return a - b;
  }
  return x.length - y.length;
}
