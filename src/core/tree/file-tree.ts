// Queries over the merged tree (EncodedTree) as of one layer: listing, stat, per-layer changes,
// sizes, hardlinks, symlink resolution and search. Pure TS; what views and exports browse with.
import { DiffType, FileType, type EncodedTree, type FileInfo } from '../model.ts';
import { compileMatcher, type MatchOptions } from './match.ts';
import { TreeIndex } from './tree-index.ts';

export type ListMode = 'all' | 'changes';

export interface Change { node: number; diff: DiffType }
export interface LayerChanges { entries: Change[]; added: number; modified: number; deleted: number }
export interface HistoryItem { layer: number; diff: DiffType; implicit?: boolean }
export interface SearchResult { nodes: number[]; truncated: boolean }

const MAX_SYMLINK_HOPS = 40;

/**
 * Liveness rule (why it is more than "last version is not a deletion"): a path exists at layer k
 * when its own last version ≤ k is live, its parent exists and is a directory at k, and that
 * version is not older than the start of the parent's current life as a directory. So children of
 * a deleted-then-recreated directory, or of a file turned into a directory, do not reappear even
 * if the merge recorded no explicit deletion for them.
 */
export class FileTree {
  readonly tree: EncodedTree;
  readonly layerCount: number;
  readonly nodeCount: number;
  /** children, names, paths and versions: shared with the exporters */
  readonly index: TreeIndex;
  /** depth-first pre-order from the root: parents before children, siblings by name */
  private readonly order: Int32Array;
  private liveCache = new Map<number, Uint8Array>();
  private changedCache = new Map<number, Uint8Array>();
  private sizeCache = new Map<number, Float64Array>();
  private inodeNodes: Map<number, number[]> | null = null;

  constructor(tree: EncodedTree) {
    this.tree = tree;
    this.layerCount = tree.layerCount;
    this.nodeCount = tree.nodeCount;
    this.index = new TreeIndex(tree);
    this.order = this.buildOrder();
  }

  // ---- names and paths ----

  name(node: number): string { return this.index.name(node); }

  path(node: number): string { return node <= 0 ? '/' : this.index.path(node); }

  parent(node: number): number { return this.tree.parent[node]; }

  depth(node: number): number {
    let d = 0;
    for (let n = node; n > 0; n = this.tree.parent[n]) d++;
    return d;
  }

  /** Node for a "/"-rooted path (lexically cleaned; `..` at the root stays at the root), or -1. */
  lookup(path: string): number { return this.index.lookup(path); }

  /** The child of `dir` named `name` (any layer), or -1. */
  child(dir: number, name: string): number { return this.index.child(dir, name); }

  /** All children that ever existed, sorted by name bytes. */
  children(node: number): Uint32Array { return this.index.children(node); }

  // ---- versions and liveness ----

  /** Index of the node's last version with layer ≤ k, or -1. */
  versionAt(node: number, k: number): number { return this.index.versionAt(node, k); }

  /** Inode of the node as of layer k (ignoring ancestors), or -1. The root defaults to "a dir". */
  private ownInode(node: number, k: number): number {
    if (k < 0) return -1;
    const v = this.versionAt(node, k);
    return v < 0 ? -1 : this.tree.vInode[v];
  }

  /** The layer whose state a row at k shows: k if the path exists, k-1 if it was deleted at k,
   *  else -1. */
  rowLayer(node: number, k: number): number {
    if (this.isLive(node, k)) return k;
    return k > 0 && this.isLive(node, k - 1) ? k - 1 : -1;
  }

  /** Type of the path as a row at k shows it (deleted rows: what was deleted), or -1. Cheap. */
  rowType(node: number, k: number): FileType | -1 {
    const s = this.rowLayer(node, k);
    return s < 0 ? -1 : this.typeAt(node, s);
  }

  /** Size as a row at k shows it: aggregated for directories, content size for files. */
  rowSize(node: number, k: number): number {
    const s = this.rowLayer(node, k);
    if (s < 0) return 0;
    if (this.typeAt(node, s) === FileType.Dir) return this.dirSize(node, s);
    const ino = this.ownInode(node, s);
    return ino < 0 ? 0 : this.tree.iSize[ino];
  }

  private typeAt(node: number, k: number): FileType | -1 {
    const ino = this.ownInode(node, k);
    if (ino < 0) return node === 0 ? FileType.Dir : -1;
    return this.tree.iType[ino] as FileType;
  }

  /** Per-node liveness flags at layer k, computed top-down once per layer. */
  liveAt(k: number): Uint8Array {
    let live = this.liveCache.get(k);
    if (live) return live;
    const { parent, vLayer, vInode, iType } = this.tree;
    live = new Uint8Array(this.nodeCount);
    const birth = new Int32Array(this.nodeCount).fill(-1);
    if (k >= 0 && this.nodeCount > 0) {
      live[0] = 1;
      birth[0] = 0; // the root is never deleted or replaced
      for (let i = 1; i < this.order.length; i++) {
        const n = this.order[i], p = parent[n];
        if (!live[p] || birth[p] === -2) continue;
        const v = this.versionAt(n, k);
        if (v < 0 || vInode[v] < 0 || vLayer[v] < birth[p]) continue;
        live[n] = 1;
        birth[n] = iType[vInode[v]] === FileType.Dir ? this.dirBirth(n, v) : -2;
      }
    }
    this.remember(this.liveCache, k, live);
    return live;
  }

  /** Layer where the directory life that version v belongs to began: walk back while the older
   *  versions were live directories too (an Added version starts a new life). */
  private dirBirth(n: number, v: number): number {
    const { verStart, vDiff, vInode, vLayer, iType } = this.tree;
    let b = v;
    while (b > verStart[n] && vDiff[b] !== DiffType.Added) {
      const ino = vInode[b - 1];
      if (ino < 0 || iType[ino] !== FileType.Dir) break;
      b--;
    }
    return vLayer[b];
  }

  isLive(node: number, k: number): boolean {
    if (node < 0 || node >= this.nodeCount || k < 0) return false;
    const cached = this.liveCache.get(k);
    // one-off questions about other layers (history, rows) walk the ancestors instead of
    // building (and caching) a whole-tree bitset
    return cached ? cached[node] === 1 : this.liveByWalk(node, k);
  }

  private liveByWalk(node: number, k: number): boolean {
    const { parent, vInode, vLayer, iType } = this.tree;
    const chain: number[] = [];
    for (let a = node; a > 0; a = parent[a]) chain.push(a);
    let birth = 0;
    for (let i = chain.length - 1; i >= 0; i--) {
      const n = chain[i];
      const v = this.versionAt(n, k);
      if (v < 0 || vInode[v] < 0 || vLayer[v] < birth) return false;
      if (i === 0) return true;
      if (iType[vInode[v]] !== FileType.Dir) return false;
      birth = this.dirBirth(n, v);
    }
    return true; // the root
  }

  // ---- stat ----

  /** The path's state at layer k, or null when it does not exist at k. */
  info(node: number, k: number): FileInfo | null {
    if (!this.isLive(node, k)) return null;
    const v = this.versionAt(node, k);
    const diff = v >= 0 && this.tree.vLayer[v] === k ? this.tree.vDiff[v] as DiffType : DiffType.Unmodified;
    return this.decode(node, v, diff);
  }

  /** Like info, but a path deleted at k (explicitly or with an ancestor) comes back as its state at
   *  k-1 marked Deleted, so views can show it struck through. */
  rowInfo(node: number, k: number): FileInfo | null {
    const fi = this.info(node, k);
    if (fi) return fi;
    if (k > 0 && this.isLive(node, k - 1)) {
      const prev = this.info(node, k - 1)!;
      return { ...prev, diff: DiffType.Deleted, layer: k };
    }
    return null;
  }

  /** Diff mark of a path at layer k, including deletions (Unmodified if untouched or absent). */
  diffAt(node: number, k: number): DiffType {
    if (this.isLive(node, k)) {
      const v = this.versionAt(node, k);
      return v >= 0 && this.tree.vLayer[v] === k ? this.tree.vDiff[v] as DiffType : DiffType.Unmodified;
    }
    return k > 0 && this.isLive(node, k - 1) ? DiffType.Deleted : DiffType.Unmodified;
  }

  private decode(node: number, v: number, diff: DiffType): FileInfo {
    const t = this.tree;
    const ino = v >= 0 ? t.vInode[v] : -1;
    const base = { node, inode: ino, path: this.path(node), name: node === 0 ? '/' : this.name(node), diff, layer: v >= 0 ? t.vLayer[v] : 0 };
    if (ino < 0) return { ...base, type: FileType.Dir, mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0 };
    const fi: FileInfo = {
      ...base,
      type: t.iType[ino] as FileType, mode: t.iMode[ino], uid: t.iUid[ino], gid: t.iGid[ino],
      size: t.iSize[ino], mtime: t.iMtime[ino],
    };
    if (t.iLink[ino] >= 0) fi.linkTarget = this.linkText(ino);
    if (fi.type === FileType.Char || fi.type === FileType.Block) {
      fi.devMajor = t.iDevMajor[ino];
      fi.devMinor = t.iDevMinor[ino];
    }
    if (t.iLayer[ino] >= 0 && fi.type === FileType.File) fi.content = { layer: t.iLayer[ino], offset: t.iOffset[ino], size: t.iSize[ino] };
    const xa = this.xattrsOf(ino);
    if (xa) fi.xattrs = xa;
    return fi;
  }

  private linkText(ino: number): string { return this.index.linkTarget(ino) ?? ''; }

  private xattrsOf(ino: number): Record<string, Uint8Array> | undefined { return this.index.xattrsOf(ino) ?? undefined; }

  // ---- listing ----

  /** 'all': children existing at k. 'changes': children changed at k, deleted at k, or with a
   *  changed descendant at k. Sorted by name bytes. */
  listDir(node: number, k: number, mode: ListMode): number[] {
    const out: number[] = [];
    const kids = this.children(node);
    if (mode === 'all') {
      const live = this.liveAt(k);
      for (const c of kids) if (live[c]) out.push(c);
      return out;
    }
    const changed = this.changedAt(k);
    const live = this.liveAt(k);
    const before = k > 0 ? this.liveAt(k - 1) : null;
    // a path absent at both k-1 and k has nothing to show, whatever was recorded under it
    for (const c of kids) if (live[c] ? changed[c] : before?.[c]) out.push(c);
    return out;
  }

  /** Flag per node: the node or a descendant has a version made at layer k. */
  changedAt(k: number): Uint8Array {
    let flags = this.changedCache.get(k);
    if (flags) return flags;
    flags = new Uint8Array(this.nodeCount);
    const { verStart, vLayer, parent } = this.tree;
    for (let n = 0; n < this.nodeCount; n++) {
      for (let v = verStart[n]; v < verStart[n + 1]; v++) {
        if (vLayer[v] !== k) continue;
        for (let a = n; a >= 0 && !flags[a]; a = parent[a]) flags[a] = 1;
        break;
      }
    }
    this.remember(this.changedCache, k, flags);
    return flags;
  }

  /** Versions made at layer k (explicit changes; children of a deleted directory are not listed
   *  one by one). Deletions of paths that did not exist are skipped. */
  changes(k: number): LayerChanges {
    const { verStart, vLayer, vDiff } = this.tree;
    const live = this.liveAt(k);
    const before = k > 0 ? this.liveAt(k - 1) : null;
    const res: LayerChanges = { entries: [], added: 0, modified: 0, deleted: 0 };
    for (const n of this.order) {
      for (let v = verStart[n]; v < verStart[n + 1]; v++) {
        if (vLayer[v] !== k) continue;
        const diff = vDiff[v] as DiffType;
        if (diff === DiffType.Deleted ? !(before && before[n]) || live[n] : !live[n]) break;
        res.entries.push({ node: n, diff });
        if (diff === DiffType.Added) res.added++;
        else if (diff === DiffType.Modified) res.modified++;
        else if (diff === DiffType.Deleted) res.deleted++;
        break;
      }
    }
    return res;
  }

  /** Number of paths (root excluded) that exist at layer k. */
  countEntries(k: number): number {
    const live = this.liveAt(k);
    let c = 0;
    for (let n = 1; n < this.nodeCount; n++) c += live[n];
    return c;
  }

  // ---- sizes, hardlinks, history ----

  /** Content bytes of the regular files under node at k (each path counted, like `du -l`). */
  dirSize(node: number, k: number): number {
    let sizes = this.sizeCache.get(k);
    if (!sizes) {
      sizes = new Float64Array(this.nodeCount);
      const live = this.liveAt(k);
      const { parent, vInode, iType, iSize } = this.tree;
      for (let i = this.order.length - 1; i >= 0; i--) {
        const n = this.order[i];
        if (!live[n]) continue;
        const v = this.versionAt(n, k);
        const ino = v >= 0 ? vInode[v] : -1;
        if (ino >= 0 && iType[ino] === FileType.File) sizes[n] += iSize[ino];
        if (n > 0) sizes[parent[n]] += sizes[n];
      }
      this.remember(this.sizeCache, k, sizes);
    }
    return this.isLive(node, k) ? sizes[node] : 0;
  }

  /** Other paths sharing node's inode at layer k (its hardlink group, node excluded). */
  hardlinkGroup(node: number, k: number): number[] {
    if (!this.isLive(node, k)) return [];
    const ino = this.ownInode(node, k);
    if (ino < 0 || this.tree.iType[ino] === FileType.Dir) return [];
    const candidates = this.inodeIndex().get(ino);
    if (!candidates) return [];
    return candidates.filter((n) => n !== node && this.isLive(n, k) && this.ownInode(n, k) === ino);
  }

  private inodeIndex(): Map<number, number[]> {
    if (this.inodeNodes) return this.inodeNodes;
    const { verStart, vInode } = this.tree;
    const refs = new Int32Array(this.tree.iType.length);
    const lastNode = new Int32Array(this.tree.iType.length).fill(-1);
    const count = (fn: (ino: number, n: number) => void) => {
      for (const n of this.order) {
        for (let v = verStart[n]; v < verStart[n + 1]; v++) {
          const ino = vInode[v];
          if (ino >= 0 && lastNode[ino] !== n) { lastNode[ino] = n; fn(ino, n); }
        }
      }
    };
    count((ino) => refs[ino]++);
    lastNode.fill(-1);
    const map = new Map<number, number[]>();
    count((ino, n) => {
      if (refs[ino] < 2) return;
      const list = map.get(ino);
      if (list) list.push(n); else map.set(ino, [n]);
    });
    return (this.inodeNodes = map);
  }

  /** Every layer that added, modified or deleted the path, oldest first. Deletions caused by an
   *  ancestor's deletion or replacement are included and marked implicit. */
  history(node: number): HistoryItem[] {
    const { verStart, vLayer, vDiff, parent } = this.tree;
    const items: HistoryItem[] = [];
    const own = new Set<number>();
    for (let v = verStart[node]; v < verStart[node + 1]; v++) {
      const k = vLayer[v];
      const diff = vDiff[v] as DiffType;
      // a recorded deletion of a path that did not exist then (e.g. under a removed dir) is noise
      if (diff === DiffType.Deleted && !(k > 0 && this.isLive(node, k - 1))) continue;
      items.push({ layer: k, diff });
      own.add(k);
    }
    // only an ancestor's deletion, re-creation or change of type can take a path away
    const { vInode, iType } = this.tree;
    const candidates = new Set<number>();
    for (let a = parent[node]; a >= 0; a = parent[a]) {
      for (let v = verStart[a]; v < verStart[a + 1]; v++) {
        const ino = vInode[v];
        if (ino < 0 || iType[ino] !== FileType.Dir || vDiff[v] === DiffType.Added) candidates.add(vLayer[v]);
      }
    }
    for (const k of candidates) {
      if (own.has(k) || k === 0) continue;
      if (this.isLive(node, k - 1) && !this.isLive(node, k)) items.push({ layer: k, diff: DiffType.Deleted, implicit: true });
    }
    return items.sort((a, b) => a.layer - b.layer);
  }

  // ---- symlinks ----

  /** Where a path leads at layer k, resolved inside the image (absolute targets are rooted at the
   *  image root; `..` at the root stays there; intermediate symlinks followed; at most 40 hops).
   *  Returns the node itself for non-symlinks, -1 when the target is missing, dangling or loops. */
  resolveSymlink(node: number, k: number): number {
    if (!this.isLive(node, k)) return -1;
    if (this.typeAt(node, k) !== FileType.Symlink) return node;
    const live = this.liveAt(k);
    const pending: string[] = [];
    let cur = Math.max(0, this.tree.parent[node]);
    let hops = 0;
    const pushTarget = (n: number): boolean => {
      if (++hops > MAX_SYMLINK_HOPS) return false;
      const target = this.linkText(this.ownInode(n, k));
      if (target === '') return false;
      if (target.startsWith('/')) cur = 0;
      const parts = target.split('/');
      for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]);
      return true;
    };
    if (!pushTarget(node)) return -1;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === '' || part === '.') continue;
      if (this.typeAt(cur, k) !== FileType.Dir) return -1;
      if (part === '..') { cur = Math.max(0, this.tree.parent[cur]); continue; }
      const next = this.child(cur, part);
      if (next < 0 || !live[next]) return -1;
      if (this.typeAt(next, k) === FileType.Symlink) {
        if (!pushTarget(next)) return -1;
        // a relative target is relative to the symlink's directory, which is `cur` already
        continue;
      }
      cur = next;
    }
    return cur;
  }

  // ---- search ----

  /** Paths existing at k that match `pattern`: a glob when it has * ? or [ (a pattern without "/"
   *  matches names, with "/" whole paths; ** spans directories), else a substring of the path.
   *  `includeDeleted` also matches paths deleted at k (for the changes view). */
  search(pattern: string, k: number, opts: MatchOptions & { limit?: number; includeDeleted?: boolean } = {}): SearchResult {
    const limit = opts.limit ?? 5000;
    const match = compileMatcher(pattern, opts);
    const live = opts.includeDeleted && k > 0 ? union(this.liveAt(k), this.liveAt(k - 1)) : this.liveAt(k);
    const nodes: number[] = [];
    if (!match) return { nodes, truncated: false };
    // paths are built incrementally along the pre-order walk instead of per node
    const pathOf = new Array<string>(this.nodeCount);
    pathOf[0] = '';
    for (let i = 1; i < this.order.length; i++) {
      const n = this.order[i];
      if (!live[n]) continue;
      const p = pathOf[this.tree.parent[n]] + '/' + this.name(n);
      pathOf[n] = p;
      if (match(p, this.name(n))) {
        if (nodes.length >= limit) return { nodes, truncated: true };
        nodes.push(n);
      }
    }
    return { nodes, truncated: false };
  }

  // ---- internals ----

  private buildOrder(): Int32Array {
    const order = new Int32Array(this.nodeCount);
    if (this.nodeCount === 0) return order;
    let len = 0;
    const stack: number[] = [0];
    while (stack.length > 0) {
      const n = stack.pop()!;
      order[len++] = n;
      const kids = this.index.children(n);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
    return len === this.nodeCount ? order : order.subarray(0, len);
  }

  /** Keep a handful of layers per cache; each entry is O(nodes). */
  private remember<T>(cache: Map<number, T>, k: number, value: T): void {
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(k, value);
  }
}

function union(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] | b[i];
  return out;
}
