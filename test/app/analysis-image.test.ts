// The hand-built analyses must describe their images: every path they name exists at the layer
// they name (so the view's links land), superseded versions are gone from the merged filesystem.
import { describe, expect, test } from 'vitest';
import type { AnalysisResult } from '../../src/core/analysis/types.ts';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { FileType } from '../../src/core/model.ts';
import { buildTree, type Op } from '../core/tree/tree-builder.ts';
import { SAMPLE_ANALYSIS, WEBAPP_ANALYSIS, WEBAPP_LAYERS } from './analysis-image.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';

describe.each([
  ['sample', SAMPLE_LAYERS, SAMPLE_ANALYSIS],
  ['webapp', WEBAPP_LAYERS, WEBAPP_ANALYSIS],
] as [string, Op[][], AnalysisResult][])('%s analysis', (_name, layers, result) => {
  const ft = new FileTree(buildTree(layers));
  const last = ft.layerCount - 1;
  const node = (p: string) => {
    const n = ft.lookup(p);
    expect(n, p).toBeGreaterThan(0);
    return n;
  };

  test('superseded files: shipped by their layer, not in the merged filesystem (or re-written)', () => {
    for (const f of result.waste.files) {
      const n = node(f.path);
      const info = ft.info(n, f.layer - 1);
      expect(info?.type, f.path).toBe(FileType.File);
      expect(info?.size, f.path).toBe(f.size);
      expect(info?.layer, f.path).toBe(f.layer - 1);
      // overwritten and re-written paths have a newer version from the superseding layer
      if (f.how === 'metadata' || f.how === 'overwritten') expect(ft.info(n, f.supersededIn - 1)?.layer, f.path).toBe(f.supersededIn - 1);
      else expect(ft.isLive(n, f.supersededIn - 1), f.path).toBe(false);
    }
    const sizes = result.waste.files.map((f) => f.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    // regular files of the merged filesystem, each hardlink group once
    const live = ft.liveAt(last);
    const inodes = new Set<number>();
    let final = 0;
    for (let n = 0; n < ft.nodeCount; n++) {
      const ino = live[n] ? ft.tree.vInode[ft.versionAt(n, last)] : -1;
      if (ino >= 0 && ft.tree.iType[ino] === FileType.File && !inodes.has(ino)) { inodes.add(ino); final += ft.tree.iSize[ino]; }
    }
    expect(result.waste.finalBytes).toBe(final);
  });

  test('sensitive findings and package locations exist where they say', () => {
    for (const s of result.sensitive) {
      expect(ft.isLive(node(s.path), s.layer - 1), s.path).toBe(true);
      expect(ft.isLive(node(s.path), last), s.path).toBe(s.visible);
    }
    for (const p of result.packages) {
      for (const loc of p.locations) expect(ft.isLive(node(loc), p.layer - 1), `${p.name} ${loc}`).toBe(true);
      if (p.removedIn === null) for (const loc of p.locations) expect(ft.isLive(node(loc), last), loc).toBe(true);
    }
    for (const w of result.warnings) expect(ft.isLive(node(w.path), w.layer - 1)).toBe(true);
  });
});
