// Browsing state of the tree pane: layer, mode, filter, sort, expanded directories, the cursor,
// and the flattened list of visible rows that the virtualised pane renders a window of.
import { DiffType, FileType } from '../../core/model.ts';
import type { FileTree } from '../../core/tree/file-tree.ts';
import { moveBy, moveRight, moveTo, type Rows } from './tree-cursor.ts';

export type TreeMode = 'changes' | 'all';
export type SortKey = 'name' | 'size';

/** Visible rows, columnar: row i is nodes[i] at depth depths[i]. */

export const MATCH_LIMIT = 5000;
const EMPTY: Rows = { nodes: [], depths: [] };

export class TreeView {
  tree = $state.raw<FileTree | null>(null);
  layer = $state(0);
  mode = $state<TreeMode>('all');
  filter = $state('');
  changesOnly = $state(false);
  sort = $state<SortKey>('name');
  /** node under the keyboard cursor; also the selection the details pane shows */
  cursor = $state(-1);
  /** bumped when `expanded` / `collapsedInFilter` change (plain Sets: cheap at 100k entries) */
  private version = $state(0);
  private expanded = new Set<number>();
  private collapsedInFilter = new Set<number>();

  /** matches for the filter (null when no filter), plus whether the result was capped */
  readonly matches = $derived.by(() => this.computeMatches());
  readonly rows: Rows = $derived.by(() => this.flatten());
  readonly cursorIndex = $derived(this.rows.nodes.indexOf(this.cursor));

  reset(tree: FileTree | null, layer = 0): void {
    this.tree = tree;
    this.layer = layer;
    this.filter = '';
    this.expanded = new Set();
    this.collapsedInFilter = new Set();
    this.cursor = -1;
    this.version++;
  }

  get layerCount(): number { return this.tree?.layerCount ?? 0; }

  setLayer(k: number): void {
    if (!this.tree) return;
    this.layer = Math.max(0, Math.min(this.tree.layerCount - 1, k));
  }

  isDir(node: number): boolean {
    return this.tree?.rowType(node, this.layer) === FileType.Dir;
  }

  isExpanded(node: number): boolean {
    void this.version;
    return this.filterActive ? !this.collapsedInFilter.has(node) : this.expanded.has(node);
  }

  get filterActive(): boolean { return this.filter.trim() !== ''; }

  setExpanded(node: number, open: boolean): void {
    if (this.filterActive) {
      if (open) this.collapsedInFilter.delete(node); else this.collapsedInFilter.add(node);
    } else if (open) this.expanded.add(node);
    else this.expanded.delete(node);
    this.version++;
  }

  toggle(node: number): void { this.setExpanded(node, !this.isExpanded(node)); }

  expandAll(): void {
    const t = this.tree;
    if (!t) return;
    this.collapsedInFilter.clear();
    const live = t.liveAt(this.layer);
    for (let n = 0; n < t.nodeCount; n++) {
      if ((live[n] || this.mode === 'changes') && t.children(n).length > 0) this.expanded.add(n);
    }
    this.version++;
  }

  collapseAll(): void {
    this.expanded.clear();
    const t = this.tree;
    if (t && this.filterActive) for (const n of this.rows.nodes) if (t.children(n).length > 0) this.collapsedInFilter.add(n);
    this.version++;
  }

  /** Expand every ancestor of node and put the cursor on it. */
  reveal(node: number): void {
    const t = this.tree;
    if (!t || node < 0) return;
    for (let a = t.parent(node); a > 0; a = t.parent(a)) {
      this.expanded.add(a);
      this.collapsedInFilter.delete(a);
    }
    this.version++;
    this.cursor = node;
  }

  /** Drop what would keep a path out of the rows at this layer: the changes mode or
   *  changes-only when the layer did not change it, a filter it does not match. */
  makeVisible(node: number): void {
    const t = this.tree;
    if (!t || node < 0) return;
    const d = t.diffAt(node, this.layer);
    const changed = d === DiffType.Added || d === DiffType.Modified || (this.mode === 'changes' && d === DiffType.Deleted);
    if (!changed && t.isLive(node, this.layer)) {
      if (this.mode === 'changes') this.mode = 'all';
      this.changesOnly = false;
    }
    if (this.matches && !this.matches.keep[node]) this.filter = '';
  }

  // ---- cursor movement (keyboard) ----

  moveBy(delta: number): void { moveBy(this, delta); }

  moveTo(index: number): void { moveTo(this, index); }

  /** Right: expand a collapsed dir, or step into an expanded one. */
  right(): void { moveRight(this); }

  /** Left: collapse an expanded dir, or go to the parent. */
  left(): void {
    const node = this.cursor;
    if (node < 0) return;
    if (this.isDir(node) && this.isExpanded(node)) { this.setExpanded(node, false); return; }
    const p = this.tree?.parent(node) ?? -1;
    if (p > 0) this.cursor = p;
  }

  // ---- derived data ----

  private computeMatches(): { keep: Uint8Array; count: number; truncated: boolean } | null {
    const t = this.tree;
    if (!t || !this.filterActive) return null;
    const k = this.layer;
    const res = t.search(this.filter, k, { limit: MATCH_LIMIT, includeDeleted: this.mode === 'changes' });
    const keep = new Uint8Array(t.nodeCount);
    let count = 0;
    for (const n of res.nodes) {
      if (!this.passesDiff(t, n)) continue;
      count++;
      for (let a = n; a >= 0 && !keep[a]; a = t.parent(a)) keep[a] = 1;
    }
    return { keep, count, truncated: res.truncated };
  }

  /** Whether a matched node belongs in the current mode (changes mode: only changed paths). */
  private passesDiff(t: FileTree, n: number): boolean {
    if (this.mode === 'all' && !this.changesOnly) return true;
    const d = t.diffAt(n, this.layer);
    return this.mode === 'changes' ? d !== DiffType.Unmodified : d === DiffType.Added || d === DiffType.Modified;
  }

  /** Children of a node as shown: by mode, filter and changes-only, sorted. */
  listing(node: number): number[] {
    const t = this.tree;
    if (!t) return [];
    const k = this.layer;
    let kids: number[];
    if (this.mode === 'changes') kids = t.listDir(node, k, 'changes');
    else if (this.changesOnly) kids = t.listDir(node, k, 'changes').filter((c) => t.isLive(c, k));
    else kids = t.listDir(node, k, 'all');
    const m = this.matches;
    if (m) kids = kids.filter((c) => m.keep[c]);
    if (this.sort === 'size' && kids.length > 1) {
      const sizes = new Map(kids.map((c) => [c, t.rowSize(c, k)]));
      kids.sort((a, b) => sizes.get(b)! - sizes.get(a)! || a - b);
    }
    return kids;
  }

  private flatten(): Rows {
    const t = this.tree;
    void this.version;
    if (!t) return EMPTY;
    const nodes: number[] = [];
    const depths: number[] = [];
    const walk = (dir: number, depth: number) => {
      for (const c of this.listing(dir)) {
        nodes.push(c);
        depths.push(depth);
        if (t.children(c).length > 0 && this.isExpanded(c) && this.isDir(c)) walk(c, depth + 1);
      }
    };
    walk(0, 1);
    return { nodes, depths };
  }
}
