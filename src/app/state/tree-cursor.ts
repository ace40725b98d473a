// Keyboard moves over a tree shown as flattened rows, shared by the file tree (TreeView) and the
// comparison's tree (CompareTree): the cursor is a node id, the rows the nodes in display order.

/** The rows a tree shows: node ids and their depths, in display order. */
export interface Rows { nodes: number[]; depths: number[] }

/** What the moves need of a tree's view state. */
export interface Navigable {
  cursor: number;
  readonly rows: Rows;
  /** the cursor's row, -1 when it is not shown */
  readonly cursorIndex: number;
  isDir(node: number): boolean;
  isExpanded(node: number): boolean;
  setExpanded(node: number, open: boolean): void;
}

/** Up/Down (and Page Up/Down): `delta` rows from the cursor; from outside the list without one. */
export function moveBy(v: Navigable, delta: number): void {
  const n = v.rows.nodes.length;
  if (n === 0) return;
  const i = v.cursorIndex < 0 ? (delta > 0 ? -1 : n) : v.cursorIndex;
  v.cursor = v.rows.nodes[Math.max(0, Math.min(n - 1, i + delta))];
}

/** Home/End: the row at `index`, clamped. */
export function moveTo(v: Navigable, index: number): void {
  const nodes = v.rows.nodes;
  if (nodes.length > 0) v.cursor = nodes[Math.max(0, Math.min(nodes.length - 1, index))];
}

/** Right: expand a collapsed directory, or step into an expanded one. */
export function moveRight(v: Navigable): void {
  const node = v.cursor;
  if (node < 0 || !v.isDir(node)) return;
  if (!v.isExpanded(node)) v.setExpanded(node, true);
  else {
    const i = v.cursorIndex;
    if (i >= 0 && v.rows.depths[i + 1] > v.rows.depths[i]) v.cursor = v.rows.nodes[i + 1];
  }
}
