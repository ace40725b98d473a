// The Compare view's tree: only the differing paths, with the directories that hold them, each
// with its size delta; filters (text or glob, which kinds), sort, expanded directories, the cursor
// and the flattened rows the virtualised pane renders — as TreeView does for the Files view.
import { comparePaths } from '../../core/compare/files.ts';
import type { Comparison, FileDiff } from '../../core/compare/types.ts';
import { compileMatcher } from '../../core/tree/match.ts';

export type { DiffKind } from '../lib/hash.ts';
import type { DiffKind } from '../lib/hash.ts';
import { moveBy, moveRight, moveTo, type Rows } from './tree-cursor.ts';
export type CompareSort = 'name' | 'delta';

/** A row of the tree: a differing path, or a directory that only holds some. Node 0 is the root. */
export interface CompareNode {
  path: string;
  name: string;
  parent: number;
  children: number[];
  diff: FileDiff | null;
  /** B's regular-file bytes minus A's, this path and everything below it */
  delta: number;
}

const EMPTY: Rows = { nodes: [], depths: [] };

/** Below this many paths every directory starts expanded. */
const EXPAND_ALL_UNDER = 2000;

export function buildNodes(files: FileDiff[]): CompareNode[] {
  const nodes: CompareNode[] = [{ path: '/', name: '/', parent: -1, children: [], diff: null, delta: 0 }];
  const byPath = new Map<string, number>([['/', 0]]);
  const nodeFor = (path: string): number => {
    const known = byPath.get(path);
    if (known !== undefined) return known;
    const cut = path.lastIndexOf('/');
    const parent = nodeFor(cut === 0 ? '/' : path.slice(0, cut));
    const id = nodes.length;
    nodes.push({ path, name: path.slice(cut + 1), parent, children: [], diff: null, delta: 0 });
    nodes[parent].children.push(id);
    byPath.set(path, id);
    return id;
  };
  for (const f of files) {
    const n = nodeFor(f.path);
    nodes[n].diff = f;
    const d = (f.b?.type === 'file' ? f.b.size : 0) - (f.a?.type === 'file' ? f.a.size : 0);
    for (let a = n; a >= 0 && d; a = nodes[a].parent) nodes[a].delta += d;
  }
  // a directory made for a deeper path can come after a sibling that sorts after it
  for (const n of nodes) if (n.children.length > 1) n.children.sort((x, y) => comparePaths(nodes[x].name, nodes[y].name));
  return nodes;
}

export class CompareTree {
  nodes = $state.raw<CompareNode[]>([]);
  filter = $state('');
  kinds = $state<Record<DiffKind, boolean>>({ added: true, modified: true, deleted: true });
  sort = $state<CompareSort>('name');
  cursor = $state(-1);
  private version = $state(0);
  private expanded = new Set<number>();

  readonly matches = $derived.by(() => this.computeMatches());
  readonly rows: Rows = $derived.by(() => this.flatten());
  readonly cursorIndex = $derived(this.rows.nodes.indexOf(this.cursor));

  /** A new comparison, or (`again`) the same one settled: the cursor stays on its path; a settled
   *  one keeps the expanded directories, a new one starts with all of them open when it is small. */
  set(cmp: Comparison | null, again = false): void {
    const before = this.nodes;
    const open = new Set([...this.expanded].map((n) => before[n]?.path));
    const at = before[this.cursor]?.path;
    const nodes = cmp ? buildNodes(cmp.files) : [];
    this.expanded = new Set();
    const all = !again && nodes.length < EXPAND_ALL_UNDER;
    nodes.forEach((n, i) => { if (n.children.length && (all || open.has(n.path))) this.expanded.add(i); });
    this.nodes = nodes;
    this.cursor = at === undefined ? -1 : nodes.findIndex((n) => n.path === at);
    this.version++;
  }

  lookup(path: string): number { return this.nodes.findIndex((n) => n.path === path); }

  isDir(node: number): boolean { return (this.nodes[node]?.children.length ?? 0) > 0; }

  isExpanded(node: number): boolean {
    void this.version;
    return this.matches !== null || this.expanded.has(node);
  }

  setExpanded(node: number, open: boolean): void {
    if (open) this.expanded.add(node); else this.expanded.delete(node);
    this.version++;
  }

  toggle(node: number): void { this.setExpanded(node, !this.expanded.has(node)); }

  expandAll(): void {
    this.nodes.forEach((n, i) => { if (n.children.length) this.expanded.add(i); });
    this.version++;
  }

  collapseAll(): void { this.expanded.clear(); this.version++; }

  /** Expand the ancestors of `node` and put the cursor on it. */
  reveal(node: number): void {
    if (node < 0 || !this.nodes[node]) return;
    for (let a = this.nodes[node].parent; a > 0; a = this.nodes[a].parent) this.expanded.add(a);
    this.version++;
    this.cursor = node;
  }

  moveBy(delta: number): void { moveBy(this, delta); }

  moveTo(index: number): void { moveTo(this, index); }

  /** Right: expand a collapsed dir, or step into an expanded one. */
  right(): void { moveRight(this); }

  left(): void {
    const node = this.cursor;
    if (node < 0) return;
    if (this.isDir(node) && this.isExpanded(node) && this.matches === null) { this.setExpanded(node, false); return; }
    const p = this.nodes[node].parent;
    if (p > 0) this.cursor = p;
  }

  /** A path passes when its kind is shown and it matches the filter; its directories come along. */
  private computeMatches(): Uint8Array | null {
    const all = this.kinds.added && this.kinds.modified && this.kinds.deleted;
    const match = compileMatcher(this.filter);
    if (all && !match) return null;
    const keep = new Uint8Array(this.nodes.length);
    this.nodes.forEach((n, i) => {
      if (!n.diff || !this.kinds[n.diff.change] || (match && !match(n.path, n.name))) return;
      for (let a = i; a >= 0 && !keep[a]; a = this.nodes[a].parent) keep[a] = 1;
    });
    return keep;
  }

  private flatten(): Rows {
    void this.version;
    const nodes = this.nodes;
    if (!nodes.length) return EMPTY;
    const keep = this.matches;
    const out: Rows = { nodes: [], depths: [] };
    const walk = (n: number, depth: number) => {
      let kids = nodes[n].children;
      if (keep) kids = kids.filter((c) => keep[c]);
      if (this.sort === 'delta') kids = [...kids].sort((x, y) => Math.abs(nodes[y].delta) - Math.abs(nodes[x].delta) || x - y);
      for (const c of kids) {
        out.nodes.push(c);
        out.depths.push(depth);
        if (nodes[c].children.length && (keep || this.expanded.has(c))) walk(c, depth + 1);
      }
    };
    walk(0, 1);
    return out;
  }
}
