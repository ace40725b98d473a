// Where the bytes go: what the layers ship, what the merged filesystem keeps, and every file
// version that ships without being visible (the "hidden" content anyone can extract), with the
// layer that hid it and how. Counted per inode: a hardlink group is one file, and a file another
// path still links to is not waste.
import { FileType, type EncodedTree } from '../model.ts';
import { FileTree } from '../tree/file-tree.ts';
import type { SupersededFile, SupersededHow, Waste } from './types.ts';
import { howSuperseded } from './versions.ts';

/** Internal form of a superseded file (0-based layers, node ids) for the analyses that follow. */
export interface HiddenVersion {
  inode: number;
  /** the path that shipped it */
  node: number;
  /** 0-based layer that shipped it */
  layer: number;
  /** 0-based layer where the last path holding it lost it */
  until: number;
  how: SupersededHow;
}

export interface SpaceResult {
  waste: Waste;
  hidden: HiddenVersion[];
  /** per inode: 1 when the merged filesystem has it */
  visible: Uint8Array;
}

export function analyzeSpace(t: EncodedTree, ft: FileTree = new FileTree(t)): SpaceResult {
  const N = t.layerCount;
  const I = t.iType.length;
  const last = N - 1;
  const visible = new Uint8Array(I);
  const live = ft.liveAt(last);
  for (let n = 0; n < t.nodeCount; n++) {
    if (!live[n]) continue;
    const v = ft.versionAt(n, last);
    if (v >= 0 && t.vInode[v] >= 0) visible[t.vInode[v]] = 1;
  }
  // when each inode stopped being reachable: the latest end over every path that held it
  const until = new Int32Array(I).fill(-1);
  const how: (SupersededHow | undefined)[] = new Array(I);
  for (let n = 0; n < t.nodeCount; n++) {
    const end = t.verStart[n + 1];
    for (let v = t.verStart[n]; v < end; v++) {
      const ino = t.vInode[v];
      if (ino < 0 || t.iType[ino] !== FileType.File || visible[ino]) continue;
      const next = v + 1 < end ? v + 1 : -1;
      const u = next < 0 ? N : t.vLayer[next];
      if (u > until[ino]) { until[ino] = u; how[ino] = next < 0 ? 'overwritten' : howSuperseded(t, v, next); }
    }
  }
  const shipped = new Array<number>(N).fill(0);
  const wasted = new Array<number>(N).fill(0);
  let finalBytes = 0;
  const hidden: HiddenVersion[] = [];
  for (let i = 0; i < I; i++) {
    if (t.iType[i] !== FileType.File || t.iLayer[i] < 0) continue;
    const layer = t.iLayer[i];
    const size = t.iSize[i];
    shipped[layer] += size;
    if (visible[i]) { finalBytes += size; continue; }
    wasted[layer] += size;
    // no path ever held it past its own layer: a later entry of the same layer replaced it
    hidden.push({ inode: i, node: t.iNode[i], layer, until: until[i] < 0 ? layer : until[i], how: how[i] ?? 'overwritten' });
  }
  const shippedBytes = shipped.reduce((a, b) => a + b, 0);
  const files: SupersededFile[] = hidden.map((h) => ({
    path: ft.path(h.node), layer: h.layer + 1, size: t.iSize[h.inode], supersededIn: h.until + 1, how: h.how,
  }));
  files.sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || a.layer - b.layer);
  return {
    waste: {
      shippedBytes, finalBytes, wastedBytes: shippedBytes - finalBytes,
      efficiency: shippedBytes === 0 ? 1 : finalBytes / shippedBytes,
      layers: shipped.map((s, k) => ({ layer: k + 1, shippedBytes: s, wastedBytes: wasted[k] })),
      files,
    },
    hidden, visible,
  };
}
