// Treemap of the merged filesystem at one layer: a d3 squarified layout of the files' sizes, each
// file tagged with the layer its version came from. Pure (no DOM): the canvas drawing is in
// treemap-draw.ts, and the benchmark calls both.
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import { FileType } from '../../core/model.ts';
import type { FileTree } from '../../core/tree/file-tree.ts';

export interface TreemapDatum {
  node: number;
  /** bytes of a file (directories: 0; their size is the rect's `value`) */
  size: number;
  /** 0-based layer that made the file's version; -1 for directories */
  layer: number;
  kids: TreemapDatum[] | null;
}

export type TreemapRect = HierarchyRectangularNode<TreemapDatum>;

export interface TreemapOptions {
  width: number;
  height: number;
  /** the directory laid out (the zoom); default the root */
  root?: number;
  /** only the files whose version this layer made */
  changesOnly?: boolean;
  /** room for a directory's name above its content, given to directories large enough for one */
  labelHeight?: number;
}

export interface TreemapLayout {
  root: TreemapRect | null;
  /** every rectangle, a directory before what it contains */
  rects: TreemapRect[];
  files: number;
  bytes: number;
  /** 0-based layers the files came from, ascending */
  layers: number[];
  width: number;
  height: number;
}

/** The directory's live content at layer k as a datum tree; files of 0 bytes and empty
 *  directories are left out (they have no area). Iterative: paths can be deep. */
export function treemapData(tree: FileTree, k: number, rootNode = 0, changesOnly = false): TreemapDatum | null {
  const live = tree.liveAt(k);
  if (!live[rootNode]) return null;
  const { vInode, vLayer, iType, iSize } = tree.tree;
  const root: TreemapDatum = { node: rootNode, size: 0, layer: -1, kids: [] };
  const stack: TreemapDatum[] = [root];
  const order: TreemapDatum[] = [];
  while (stack.length > 0) {
    const d = stack.pop()!;
    order.push(d);
    for (const c of tree.children(d.node)) {
      if (!live[c]) continue;
      const v = tree.versionAt(c, k);
      const ino = vInode[v];
      const type = iType[ino];
      if (type === FileType.Dir) {
        const sub: TreemapDatum = { node: c, size: 0, layer: -1, kids: [] };
        d.kids!.push(sub);
        stack.push(sub);
      } else if (type === FileType.File && iSize[ino] > 0 && (!changesOnly || vLayer[v] === k)) {
        d.kids!.push({ node: c, size: iSize[ino], layer: vLayer[v], kids: null });
      }
    }
  }
  // children after parents in `order`: prune empty directories bottom-up
  for (let i = order.length - 1; i >= 0; i--) {
    const d = order[i];
    d.kids = d.kids!.filter((c) => c.kids === null || c.kids.length > 0);
  }
  return root.kids!.length > 0 ? root : null;
}

export function layoutTreemap(tree: FileTree, k: number, opts: TreemapOptions): TreemapLayout {
  const { width, height } = opts;
  const data = treemapData(tree, k, opts.root ?? 0, opts.changesOnly ?? false);
  const empty: TreemapLayout = { root: null, rects: [], files: 0, bytes: 0, layers: [], width, height };
  if (!data || width <= 0 || height <= 0) return empty;
  const label = opts.labelHeight ?? 14;
  const h = hierarchy(data, (d) => d.kids)
    .sum((d) => d.size)
    .sort((a, b) => b.value! - a.value! || a.data.node - b.data.node);
  const root = treemap<TreemapDatum>()
    .tile(treemapSquarify)
    .size([width, height])
    .paddingOuter((d) => (d.depth > 0 ? 1 : 0))
    .paddingTop((d) => (d.depth > 0 && !onlyDir(d) && d.x1 - d.x0 > 60 && d.y1 - d.y0 > label * 2.5 ? label : d.depth > 0 ? 1 : 0))(h);
  const rects: TreemapRect[] = [];
  const seen = new Set<number>();
  let files = 0;
  root.each((n) => {
    rects.push(n);
    if (n.data.kids === null) { files++; seen.add(n.data.layer); }
  });
  return { root, rects, files, bytes: root.value ?? 0, layers: [...seen].sort((a, b) => a - b), width, height };
}

/** A directory whose only content is one directory gets no label of its own: the label of the
 *  chain's last directory names them all ("root/.cache/pip"). */
export function onlyDir(d: { children?: { data: TreemapDatum }[] }): boolean {
  return d.children?.length === 1 && d.children[0].data.kids !== null;
}

/** The innermost rectangle under a point (a file, or a directory's label or border), or null. */
export function hitTest(layout: TreemapLayout, x: number, y: number): TreemapRect | null {
  let n = layout.root;
  if (!n || !inside(n, x, y)) return null;
  descend: while (n.children) {
    for (const c of n.children) if (inside(c, x, y)) { n = c; continue descend; }
    break;
  }
  return n;
}

const inside = (r: TreemapRect, x: number, y: number) => x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;

/** A colour per layer, told apart by hue (golden-angle steps), with a readable text colour. */
export function layerColors(count: number, dark: boolean): { fill: string; text: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const hue = (210 + i * 137.508) % 360;
    const [s, l] = dark ? [0.45, 0.36] : [0.6, 0.68];
    const [r, g, b] = hslToRgb(hue, s, l);
    const lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    // whichever of dark (#1f2328, luminance ≈ 0.016) or white text stands out more
    const onDark = (lum + 0.05) / (0.016 + 0.05), onWhite = 1.05 / (lum + 0.05);
    return { fill: `rgb(${r}, ${g}, ${b})`, text: onDark >= onWhite ? '#1f2328' : '#ffffff' };
  });
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

function lin(c: number): number {
  const x = c / 255;
  return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
}
