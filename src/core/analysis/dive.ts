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
 * walking its path from the root.
 */
function layerTrees(t: EncodedTree, ix: TreeIndex): DNode[] {
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
    const p = w.path.slice(1).split('/');
    p[p.length - 1] = WH + p[p.length - 1];
    addPath(roots[w.layer], p, { size: 0, isDir: false }).node = ix.lookup(w.path);
  }
  return roots;
}

/** a path's copies: `key` is its model node, or its path where it has none (a dead whiteout's) */
interface PathData { key: number | string; count: number; cumulative: number; min: number }

export function diveNumbers(t: EncodedTree): DiveNumbers {
  const N = t.layerCount;
  const ix = new TreeIndex(t);
  const trees = layerTrees(t, ix);
  // dive's layer size: the sizes of its regular-file entries (every entry has its own inode)
  const layerSize = new Array<number>(N).fill(0);
  for (let i = 0; i < t.iType.length; i++) if (t.iType[i] === FileType.File && t.iLayer[i] >= 0) layerSize[t.iLayer[i]] += t.iSize[i];
  // by model node (a path string only for a dead whiteout's target that no layer has): joining
  // every leaf's path to key it was the larger part of this walk
  const byPath = new Map<number | string, PathData>();
  const inefficient: PathData[] = [];
  // dive stacks trees[0..k-1] onto a copy of trees[0] for the whiteouts of layer k: done only
  // when a whiteout asks (most images have few or none; the copy and stacking were a third of this)
  let stacked: DNode | null = null;
  let stackedUpTo = 0;
  const below = (k: number): DNode => {
    stacked ??= trees[0].copy();
    for (; stackedUpTo < k; stackedUpTo++) stack(stacked, trees[stackedUpTo]);
    return stacked;
  };
  for (let k = 0; k < N; k++) {
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
      let d = byPath.get(key);
      if (!d) byPath.set(key, (d = { key, count: 0, cumulative: 0, min: -1 }));
      d.cumulative += size;
      if (d.min < 0 || size < d.min) d.min = size;
      if (++d.count === 2) inefficient.push(d);
      return true;
    });
  }
  let minimum = 0, discovered = 0;
  for (const d of byPath.values()) { minimum += d.min; discovered += d.cumulative; }
  // dive sorts ascending (sort.Sort: an insertion sort, stable, up to 12 items) and lists from the end
  const ordered = inefficient.map((d, i) => ({ d, i })).sort((a, b) => a.d.cumulative - b.d.cumulative || a.i - b.i).reverse();
  const inefficientBytes = inefficient.reduce((a, d) => a + d.cumulative, 0);
  const sizeBytes = layerSize.reduce((a, b) => a + b, 0);
  const userSizeBytes = sizeBytes - (layerSize[0] ?? 0);
  return {
    sizeBytes, userSizeBytes, inefficientBytes,
    efficiencyScore: discovered === 0 ? 1 : minimum / discovered,
    wastedUserPercent: userSizeBytes === 0 ? 0 : inefficientBytes / userSizeBytes,
    inefficientFiles: ordered.map(({ d }) => ({ count: d.count, sizeBytes: d.cumulative, file: typeof d.key === 'number' ? ix.path(d.key) : d.key })),
  };
}
