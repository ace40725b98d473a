// Test-only page: times the Analysis view's treemap (layout + canvas drawing) over a large tree.
// treemap-bench.test.ts calls window.treemapBench(files) in Chromium.
import { FileTree } from '../../../src/core/tree/file-tree.ts';
import { layerColors, layoutTreemap, treemapData } from '../../../src/app/lib/treemap.ts';
import { drawTreemap } from '../../../src/app/lib/treemap-draw.ts';
import { buildTree, dir, file, type Op } from '../../core/tree/tree-builder.ts';

export interface BenchResult {
  build: number; cold: number[]; warm: number[]; rects: number; files: number; drawnShare: number;
  /** medians of the parts: the data tree from the FileTree, the d3 layout (data included), the drawing */
  parts: { data: number; layout: number; draw: number };
}

/** `files` regular files in 5 layers, 20–200 per directory, 2–5 levels deep, sizes spread over 1 B–8 MB. */
function bigTree(files: number): FileTree {
  const layers: Op[][] = [[dir('/')], [], [], [], []];
  let seed = 0x9e3779b9;
  const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32; };
  let n = 0, d = 0;
  while (n < files) {
    const depth = 2 + Math.floor(rnd() * 4);
    const parts = Array.from({ length: depth }, (_, i) => `d${i}-${Math.floor(rnd() * (i === 0 ? 8 : 30))}`);
    const path = `/${parts.join('/')}/x${d++}`;
    const count = Math.min(files - n, 20 + Math.floor(rnd() * 180));
    const layer = Math.floor(rnd() * 5);
    for (let i = 0; i < count; i++, n++) layers[layer].push(file(`${path}/f${i}`, { size: Math.floor(Math.exp(rnd() * 16)) }));
  }
  return new FileTree(buildTree(layers));
}

function run(files: number, width = 1200, height = 600): BenchResult {
  const t0 = performance.now();
  const tree = bigTree(files);
  const build = performance.now() - t0;
  const canvas = document.getElementById('c') as HTMLCanvasElement;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  const style = { colors: layerColors(tree.layerCount, false), dirFill: '#eef1f4', dirText: '#1f2328', font: '11px sans-serif', scale: 1 };
  const parts = { data: [] as number[], layout: [] as number[], draw: [] as number[] };
  const once = (w: number) => {
    const s = performance.now();
    const layout = layoutTreemap(tree, tree.layerCount - 1, { width: w, height });
    const m = performance.now();
    drawTreemap(ctx, layout, tree, style);
    ctx.getImageData(0, 0, 1, 1); // wait for the drawing to be done, not only queued
    const e = performance.now();
    parts.layout.push(m - s);
    parts.draw.push(e - m);
    const d = performance.now();
    treemapData(tree, tree.layerCount - 1);
    parts.data.push(performance.now() - d);
    return { ms: e - s, layout };
  };
  // cold: the first layout at this layer also computes the tree's liveness at it
  const first = once(width);
  const warm: number[] = [];
  for (let i = 1; i <= 9; i++) warm.push(once(width - i).ms);
  const img = ctx.getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < img.length; i += 4) if (img[i] > 0) painted++;
  const med = (xs: number[]) => [...xs.slice(1)].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  return {
    build, cold: [first.ms], warm, rects: first.layout.rects.length, files: first.layout.files, drawnShare: painted / (width * height),
    parts: { data: med(parts.data), layout: med(parts.layout), draw: med(parts.draw) },
  };
}

(window as unknown as { treemapBench: typeof run }).treemapBench = run;
