// dive v0.13's numbers, computed the way dive computes them (filetree.Efficiency, image.Analyze),
// so a user can compare with the tool they know. dive sees each layer as the tree of its tar's
// paths, visits the leaves, and charges a path that appears in several layers with every copy's
// size — the surviving copy too (dive issue #684); a whiteout leaf costs what it deleted when it
// deleted a directory (as dive's own stacked tree of the lower layers has it: that stacking ignores
// opaque markers and keeps the children of a directory replaced by a file), nothing otherwise.
// The per-layer trees are rebuilt from the model's versions and their causes.
import { Cause, FileType, type EncodedTree } from '../model.ts';
import { TreeIndex } from '../tree/tree-index.ts';
import type { DiveNumbers } from './types.ts';

/** dive's FileInfo, reduced to what its efficiency code reads; null is dive's zero FileInfo. */
interface Info { size: number; isDir: boolean }

class DNode {
  children: Map<string, DNode> | null = null;
  /** the model's node of this path (of a whiteout: of its target), -1 where there is none */
  node = -1;
  /** sorted() until the children change */
  private order: DNode[] | null = null;
  constructor(readonly name: string, public info: Info | null) {}

  child(name: string): DNode | undefined { return this.children?.get(name); }

  add(name: string, info: Info | null): DNode {
    this.children ??= new Map();
    let c = this.children.get(name);
    if (!c) { this.children.set(name, (c = new DNode(name, info))); this.order = null; }
    return c;
  }

  remove(name: string): void {
    if (this.children?.delete(name)) this.order = null;
  }

  /** children in Go's sort.Strings order (byte order, which is code-unit order below U+D800) */
  sorted(): DNode[] {
    if (!this.children) return [];
    return (this.order ??= [...this.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }

  copy(): DNode {
    const c = new DNode(this.name, this.info && { ...this.info });
    c.node = this.node;
    if (this.children) {
      c.children = new Map();
      for (const k of this.children.values()) c.children.set(k.name, k.copy());
    }
    return c;
  }
}

const WH = '.wh.';

/** dive's AddPath: intermediate nodes get a zero FileInfo, the last one the payload (returned). */
function addPath(root: DNode, parts: string[], info: Info | null): DNode {
  let n = root;
  for (let i = 0; i < parts.length; i++) {
    const existing = n.child(parts[i]);
    n = existing ?? n.add(parts[i], null);
    if (i === parts.length - 1) n.info = info;
  }
  return n;
}

function getNode(root: DNode, parts: string[]): DNode | null {
  let n: DNode | undefined = root;
  for (const p of parts) {
    n = n.child(p);
    if (!n) return null;
  }
  return n;
}

function removePath(root: DNode, parts: string[]): void {
  if (!parts.length) return;
  getNode(root, parts.slice(0, -1))?.remove(parts[parts.length - 1]);
}

/** children first, by name; `fn` returning false stops the walk (dive's visitor error) */
function visitChildFirst(n: DNode, isRoot: boolean, fn: (node: DNode, parts: string[]) => boolean, parts: string[] = []): boolean {
  for (const c of n.sorted()) {
    parts.push(c.name);
    const ok = visitChildFirst(c, false, fn, parts);
    parts.pop();
    if (!ok) return false;
  }
  return isRoot ? true : fn(n, parts);
}

/** dive's FileTree.Stack: whiteouts remove their target, every other node is added with its payload. */
function stack(lower: DNode, upper: DNode): void {
  visitChildFirst(upper, true, (node, parts) => {
    if (node.name.startsWith(WH)) removePath(lower, [...parts.slice(0, -1), node.name.slice(WH.length)]);
    else addPath(lower, parts, node.info);
    return true;
  });
}

/**
 * Each layer as dive reads it: the tree of its tar's paths. A path's node in a layer's tree is
 * found from its parent's (made on first use, as dive's AddPath makes intermediate nodes), not by
 * walking its path from the root. Only layers up to `upTo` (the others are left empty): what a
 * layer's walk and the stacking below it need.
 */
function layerTrees(t: EncodedTree, ix: TreeIndex, upTo: number): DNode[] {
  const roots = Array.from({ length: t.layerCount }, () => new DNode('', null));
  const made = roots.map(() => new Map<number, DNode>());
  const nodeIn = (k: number, n: number): DNode => {
    if (n <= 0) return roots[k];
    let d = made[k].get(n);
    if (!d) {
      made[k].set(n, (d = nodeIn(k, t.parent[n]).add(ix.name(n), null)));
      d.node = n;
    }
    return d;
  };
  for (let n = 1; n < t.nodeCount; n++) {
    for (let v = t.verStart[n]; v < t.verStart[n + 1]; v++) {
      const why = t.vWhy[v] as Cause;
      const k = t.vLayer[v];
      if (k > upTo) continue;
      if (why === Cause.Entry || why === Cause.Hardlink) {
        const ino = t.vInode[v];
        // tar header sizes: a hardlink entry has none
        const size = why === Cause.Entry && t.iType[ino] === FileType.File ? t.iSize[ino] : 0;
        nodeIn(k, n).info = { size, isDir: t.iType[ino] === FileType.Dir };
      } else if (why === Cause.Whiteout) {
        const w = nodeIn(k, t.parent[n]).add(WH + ix.name(n), null);
        w.info = { size: 0, isDir: false };
        w.node = n;
      }
    }
  }
  for (const w of t.deadWhiteouts) {
    if (w.layer > upTo) continue;
    const p = w.path.slice(1).split('/');
    p[p.length - 1] = WH + p[p.length - 1];
    addPath(roots[w.layer], p, { size: 0, isDir: false }).node = ix.lookup(w.path);
  }
  return roots;
}

/**
 * Every path's copies, as dive counts them (count, cumulative size, smallest copy): by model node
 * in typed arrays, by path string where there is no node (a dead whiteout's target). `inefficient`
 * lists the paths in the order their second copy was met — dive's order among equal sizes.
 */
class Tally {
  private readonly count: Int32Array;
  private readonly sum: Float64Array;
  private readonly min: Float64Array;
  private readonly byPath = new Map<string, { count: number; sum: number; min: number }>();
  readonly inefficient: (number | string)[] = [];

  constructor(nodes: number) {
    this.count = new Int32Array(nodes);
    this.sum = new Float64Array(nodes);
    this.min = new Float64Array(nodes);
  }

  /** one copy of `key` of `size` bytes; true when it is the path's second */
  add(key: number | string, size: number): boolean {
    let count: number;
    if (typeof key === 'number') {
      count = ++this.count[key];
      this.sum[key] += size;
      if (count === 1 || size < this.min[key]) this.min[key] = size;
    } else {
      let d = this.byPath.get(key);
      if (!d) this.byPath.set(key, (d = { count: 0, sum: 0, min: size }));
      count = ++d.count;
      d.sum += size;
      if (size < d.min) d.min = size;
    }
    return count === 2;
  }

  of(key: number | string): { count: number; sum: number } {
    return typeof key === 'number' ? { count: this.count[key], sum: this.sum[key] } : this.byPath.get(key)!;
  }

  /** dive's efficiency: the smallest copies over all copies */
  totals(): { minimum: number; discovered: number } {
    let minimum = 0, discovered = 0;
    for (let n = 0; n < this.count.length; n++) if (this.count[n]) { minimum += this.min[n]; discovered += this.sum[n]; }
    for (const d of this.byPath.values()) { minimum += d.min; discovered += d.sum; }
    return { minimum, discovered };
  }
}

/** dive's order of leaves in a layer's walk: children first, each level by name (Go's byte order) */
function walkOrder(ix: TreeIndex): (a: number, b: number) => number {
  const parts = new Map<number, string[]>();
  const of = (n: number) => {
    let p = parts.get(n);
    if (!p) parts.set(n, (p = ix.path(n).split('/')));
    return p;
  };
  return (a, b) => {
    const x = of(a), y = of(b);
    for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return x.length - y.length;
  };
}

/**
 * The leaves of each layer without whiteouts, as [node, size] pairs, from the model alone: a
 * layer's tree holds its entries and their ancestors, and its leaves are the entries that are no
 * other entry's ancestor. A path has at most one version per layer (a path entered twice in a
 * layer's tar: its last entry, as dive's tree keeps it). Layers with whiteouts are left out (null).
 */
function plainLeaves(t: EncodedTree, whiteouts: Uint8Array): (number[] | null)[] {
  const N = t.layerCount;
  const entries: (number[] | null)[] = Array.from({ length: N }, (_, k) => (whiteouts[k] ? null : []));
  for (let n = 1; n < t.nodeCount; n++) {
    for (let v = t.verStart[n]; v < t.verStart[n + 1]; v++) {
      const why = t.vWhy[v] as Cause;
      if (why !== Cause.Entry && why !== Cause.Hardlink) continue;
      const list = entries[t.vLayer[v]];
      if (!list) continue;
      const ino = t.vInode[v];
      // tar header sizes: a hardlink entry has none
      const size = why === Cause.Entry && t.iType[ino] === FileType.File ? t.iSize[ino] : 0;
      list.push(n, size);
    }
  }
  const inner = new Int32Array(t.nodeCount).fill(-1); // layer whose entries lie below this node
  return entries.map((list, k) => {
    if (!list) return null;
    for (let j = 0; j < list.length; j += 2) {
      for (let p = t.parent[list[j]]; p > 0 && inner[p] !== k; p = t.parent[p]) inner[p] = k;
    }
    const leaves: number[] = [];
    for (let j = 0; j < list.length; j += 2) if (inner[list[j]] !== k) leaves.push(list[j], list[j + 1]);
    return leaves;
  });
}

/**
 * `walkTrees`: every layer walked as dive's tree, as layers with whiteouts are — the way all
 * were before the model-only walk, kept as that walk's reference (tests). `index`: the tree's
 * index when the caller has one (its decoded names are reused).
 */
export function diveNumbers(t: EncodedTree, opts: { walkTrees?: boolean; index?: TreeIndex } = {}): DiveNumbers {
  const N = t.layerCount;
  const ix = opts.index ?? new TreeIndex(t);
  // dive's layer size: the sizes of its regular-file entries (every entry has its own inode)
  const layerSize = new Array<number>(N).fill(0);
  for (let i = 0; i < t.iType.length; i++) if (t.iType[i] === FileType.File && t.iLayer[i] >= 0) layerSize[t.iLayer[i]] += t.iSize[i];
  // A layer without whiteouts is walked from the model (no per-layer trees, no sorting): its
  // leaves are all counted whatever the order, and the few that become inefficient are put in
  // dive's walk order. A layer with whiteouts walks dive's trees, in order: a whiteout is charged
  // from the stacked lower layers, and one that misses ends the walk there.
  const whiteouts = new Uint8Array(N);
  for (let v = 0; v < t.vWhy.length; v++) if (t.vWhy[v] === Cause.Whiteout) whiteouts[t.vLayer[v]] = 1;
  for (const w of t.deadWhiteouts) whiteouts[w.layer] = 1;
  if (opts.walkTrees) whiteouts.fill(1);
  const plain = plainLeaves(t, whiteouts);
  const tally = new Tally(t.nodeCount);
  const order = walkOrder(ix);
  let trees: DNode[] | null = null;
  // dive stacks trees[0..k-1] onto a copy of trees[0] for the whiteouts of layer k: done only
  // when a whiteout asks (most images have few or none; the copy and stacking were a third of this)
  let stacked: DNode | null = null;
  let stackedUpTo = 0;
  const below = (k: number): DNode => {
    stacked ??= trees![0].copy();
    for (; stackedUpTo < k; stackedUpTo++) stack(stacked, trees![stackedUpTo]);
    return stacked;
  };
  for (let k = 0; k < N; k++) {
    const leaves = plain[k];
    if (leaves) {
      const second: number[] = [];
      for (let j = 0; j < leaves.length; j += 2) if (tally.add(leaves[j], leaves[j + 1])) second.push(leaves[j]);
      tally.inefficient.push(...second.sort(order));
      continue;
    }
    trees ??= layerTrees(t, ix, whiteouts.lastIndexOf(1));
    visitChildFirst(trees[k], true, (node, parts) => {
      if (node.children?.size) return true; // dive visits leaves only
      let size: number;
      let key: number | string = node.node;
      if (node.name.startsWith(WH)) {
        const target = [...parts.slice(0, -1), node.name.slice(WH.length)];
        if (key === -1) key = '/' + target.join('/');
        const prev = getNode(below(k), target);
        if (!prev) return false; // dive's GetNode error ends the walk of this layer
        size = 0;
        if (prev.info?.isDir) visitChildFirst(prev, false, (c) => { size += c.info?.size ?? 0; return true; });
      } else {
        size = node.info?.size ?? 0;
        if (key === -1) key = '/' + parts.join('/');
      }
      if (tally.add(key, size)) tally.inefficient.push(key);
      return true;
    });
  }
  const { minimum, discovered } = tally.totals();
  // dive sorts ascending (sort.Sort: an insertion sort, stable, up to 12 items) and lists from the end
  const inefficient = tally.inefficient.map((key) => ({ key, ...tally.of(key) }));
  const ordered = inefficient.map((d, i) => ({ d, i })).sort((a, b) => a.d.sum - b.d.sum || a.i - b.i).reverse();
  const inefficientBytes = inefficient.reduce((a, d) => a + d.sum, 0);
  const sizeBytes = layerSize.reduce((a, b) => a + b, 0);
  const userSizeBytes = sizeBytes - (layerSize[0] ?? 0);
  return {
    sizeBytes, userSizeBytes, inefficientBytes,
    efficiencyScore: discovered === 0 ? 1 : minimum / discovered,
    wastedUserPercent: userSizeBytes === 0 ? 0 : inefficientBytes / userSizeBytes,
    inefficientFiles: ordered.map(({ d }) => ({ count: d.count, sizeBytes: d.sum, file: typeof d.key === 'number' ? ix.path(d.key) : d.key })),
  };
}
