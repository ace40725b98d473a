// Navigation over an EncodedTree: children lists (sorted by name bytes), names, paths and the
// version of a node in force at a layer. Built once per tree; FileTree and the exporters share it.
import type { EncodedTree } from '../model.ts';

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

export class TreeIndex {
  /** children of node n: childList[childStart[n] .. childStart[n+1]) */
  readonly childStart: Uint32Array;
  readonly childList: Uint32Array;
  private names: (string | undefined)[];

  constructor(readonly t: EncodedTree) {
    const N = t.nodeCount;
    this.names = new Array(N);
    const count = new Uint32Array(N + 1);
    for (let n = 1; n < N; n++) count[t.parent[n] + 1]++;
    for (let i = 0; i < N; i++) count[i + 1] += count[i];
    this.childStart = count.slice();
    const fill = count.slice(0, N);
    this.childList = new Uint32Array(Math.max(0, N - 1));
    for (let n = 1; n < N; n++) this.childList[fill[t.parent[n]]++] = n;
    // sort each child run by name bytes (the order of `LC_ALL=C sort`); runs often come sorted
    const cmp = (x: number, y: number) => compareNodeNames(t, x, t, y);
    for (let p = 0; p < N; p++) {
      const a = this.childStart[p], b = this.childStart[p + 1];
      if (b - a < 2) continue;
      const run = this.childList.subarray(a, b);
      let sorted = true;
      for (let i = 1; i < run.length && sorted; i++) sorted = cmp(run[i - 1], run[i]) <= 0;
      if (!sorted) run.sort(cmp);
    }
  }


  name(n: number): string {
    let s = this.names[n];
    if (s === undefined) {
      s = utf8.decode(this.t.nameBytes.subarray(this.t.nameOffsets[n], this.t.nameOffsets[n + 1]));
      this.names[n] = s;
    }
    return s;
  }

  /** "/"-rooted path; the root is "/" */
  path(n: number): string {
    if (n === 0) return '/';
    const parts: string[] = [];
    for (let c = n; c > 0; c = this.t.parent[c]) parts.push(this.name(c));
    return '/' + parts.reverse().join('/');
  }

  children(n: number): Uint32Array {
    return this.childList.subarray(this.childStart[n], this.childStart[n + 1]);
  }

  /** index of the version of node n in force at layer k, or -1 if none yet */
  versionAt(n: number, k: number): number {
    const { verStart, vLayer } = this.t;
    for (let v = verStart[n + 1] - 1; v >= verStart[n]; v--) if (vLayer[v] <= k) return v;
    return -1;
  }

  /** inode of node n at layer k, or -1 if the path does not exist then */
  inodeAt(n: number, k: number): number {
    const v = this.versionAt(n, k);
    return v < 0 ? -1 : this.t.vInode[v];
  }

  linkTarget(inode: number): string | undefined {
    const li = this.t.iLink[inode];
    if (li < 0) return undefined;
    return utf8.decode(this.t.linkBytes.subarray(this.t.linkOffsets[li], this.t.linkOffsets[li + 1]));
  }

  /** look a "/"-rooted or relative path up among all nodes (live or not); `..` stops at the root */
  lookup(path: string): number {
    let n = 0;
    for (const part of path.split('/')) {
      if (!part || part === '.') continue;
      if (part === '..') { n = Math.max(0, this.t.parent[n]); continue; }
      n = this.child(n, part);
      if (n < 0) return -1;
    }
    return n;
  }

  /** the child of `dir` named `name` (any layer), by binary search over the sorted children */
  child(dir: number, name: string): number {
    const kids = this.children(dir);
    const want = utf8enc.encode(name);
    let lo = 0, hi = kids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.compareBytes(kids[mid], want);
      if (c === 0) return kids[mid];
      if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  private compareBytes(x: number, want: Uint8Array): number {
    const t = this.t;
    let i = t.nameOffsets[x], j = 0;
    const ie = t.nameOffsets[x + 1];
    for (; i < ie && j < want.length; i++, j++) {
      const d = t.nameBytes[i] - want[j];
      if (d) return d;
    }
    return (ie - i) - (want.length - j);
  }

  xattrsOf(inode: number): Record<string, Uint8Array> | null {
    let out: Record<string, Uint8Array> | null = null;
    for (const x of this.xattrIndex().get(inode) ?? []) (out ??= {})[x.name] = x.value;
    return out;
  }

  private xIdx: Map<number, { name: string; value: Uint8Array }[]> | null = null;
  private xattrIndex(): Map<number, { name: string; value: Uint8Array }[]> {
    if (!this.xIdx) {
      this.xIdx = new Map();
      for (const x of this.t.xattrs) {
        const l = this.xIdx.get(x.inode);
        if (l) l.push(x); else this.xIdx.set(x.inode, [x]);
      }
    }
    return this.xIdx;
  }
}

/** Name bytes of node x in tree ta against node y in tree tb (the order of `LC_ALL=C sort`). */
export function compareNodeNames(ta: EncodedTree, x: number, tb: EncodedTree, y: number): number {
  let i = ta.nameOffsets[x], j = tb.nameOffsets[y];
  const ie = ta.nameOffsets[x + 1], je = tb.nameOffsets[y + 1];
  for (; i < ie && j < je; i++, j++) {
    const d = ta.nameBytes[i] - tb.nameBytes[j];
    if (d) return d;
  }
  return (ie - i) - (je - j);
}
