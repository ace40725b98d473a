// Draws a treemap layout on a 2D canvas: directories as frames with their names, files filled
// with their layer's colour (grouped by colour: tens of thousands of rects in a few state changes).
import type { FileTree } from '../../core/tree/file-tree.ts';
import { onlyDir, type TreemapLayout, type TreemapRect } from './treemap.ts';

export interface DrawStyle {
  /** per 0-based layer */
  colors: { fill: string; text: string }[];
  dirFill: string;
  dirText: string;
  font: string;
  /** device pixels per CSS pixel */
  scale: number;
}

const CHAR_W = 6.6; // ≈ width of a character of the 11px UI font: labels are cut without measuring

export function drawTreemap(ctx: CanvasRenderingContext2D, layout: TreemapLayout, tree: FileTree, style: DrawStyle): void {
  const { width, height, rects } = layout;
  ctx.setTransform(style.scale, 0, 0, style.scale, 0, 0);
  ctx.clearRect(0, 0, width, height);
  // directories first (their frames and label bands), then files one colour at a time: few
  // fillStyle changes, and rects narrower than a third of a pixel are not worth a call
  ctx.fillStyle = style.dirFill;
  const byLayer: TreemapRect[][] = [];
  for (const r of rects) {
    const w = r.x1 - r.x0, h = r.y1 - r.y0;
    if (w < 0.3 || h < 0.3) continue;
    if (r.data.kids !== null) {
      if (r.depth > 0) ctx.fillRect(r.x0, r.y0, w, h);
    } else (byLayer[r.data.layer] ??= []).push(r);
  }
  byLayer.forEach((list, layer) => {
    ctx.fillStyle = style.colors[layer]?.fill ?? '#888';
    for (const r of list) ctx.fillRect(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
  });
  drawLabels(ctx, layout, tree, style);
}

function drawLabels(ctx: CanvasRenderingContext2D, layout: TreemapLayout, tree: FileTree, style: DrawStyle): void {
  ctx.font = style.font;
  ctx.textBaseline = 'top';
  for (const r of layout.rects) {
    if (r.depth === 0) continue;
    const w = r.x1 - r.x0, h = r.y1 - r.y0;
    const dir = r.data.kids !== null;
    if (w < 40 || h < (dir ? 30 : 16)) continue;
    // a directory's label sits in the band d3 left above its children
    if (dir && (r.children?.[0]?.y0 ?? r.y1) - r.y0 < 12) continue;
    const chars = Math.floor((w - 6) / CHAR_W);
    let name = dir ? chainName(r, tree) : tree.name(r.data.node);
    if (name.length > chars) name = chars > 2 ? name.slice(0, chars - 1) + '…' : '';
    if (!name) continue;
    ctx.fillStyle = dir ? style.dirText : style.colors[r.data.layer]?.text ?? '#000';
    ctx.fillText(name, r.x0 + 3, r.y0 + 2, w - 6);
  }
}

/** "a/b/c" for a directory c whose ancestors a and b hold nothing but the next directory. */
function chainName(r: TreemapRect, tree: FileTree): string {
  let name = tree.name(r.data.node);
  for (let p = r.parent; p && p.depth > 0 && onlyDir(p); p = p.parent) name = tree.name(p.data.node) + '/' + name;
  return name;
}
