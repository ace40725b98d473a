// File versions over time: when each regular-file version of a path is visible (from the layer
// that shipped it to the layer that hid it) and how it was hidden. The merge records every
// deletion explicitly (a whiteout, an opaque marker or a replacement deletes each live path below
// it too), so a version is visible from its own layer until the next version of its path.
import { Cause, FileType, type EncodedTree } from '../model.ts';
import type { SupersededHow } from './types.ts';

export interface FileVersion {
  node: number;
  /** index into the version columns */
  version: number;
  inode: number;
  /** 0-based layer that made this version */
  from: number;
  /** 0-based layer where it stops being visible; layerCount when the merged filesystem has it */
  until: number;
  /** how it stopped being visible (only when until < layerCount) */
  how: SupersededHow | null;
}

/** The regular-file versions of `node`, oldest first. */
export function fileVersions(t: EncodedTree, node: number): FileVersion[] {
  const out: FileVersion[] = [];
  const end = t.verStart[node + 1];
  for (let v = t.verStart[node]; v < end; v++) {
    const ino = t.vInode[v];
    if (ino < 0 || t.iType[ino] !== FileType.File) continue;
    const next = v + 1 < end ? v + 1 : -1;
    out.push({
      node, version: v, inode: ino, from: t.vLayer[v],
      until: next < 0 ? t.layerCount : t.vLayer[next],
      how: next < 0 ? null : howSuperseded(t, v, next),
    });
  }
  return out;
}

/** Why version `v` of a path gave way to version `next` of the same path. */
export function howSuperseded(t: EncodedTree, v: number, next: number): SupersededHow {
  const ino = t.vInode[next];
  if (ino < 0) {
    const why = t.vWhy[next] as Cause;
    if (why === Cause.Opaque) return 'opaque';
    if (why === Cause.Whiteout || why === Cause.UnderWhiteout) return 'deleted';
    return 'overwritten';
  }
  return isMetadataCopy(t, t.vInode[v], ino) ? 'metadata' : 'overwritten';
}

/**
 * A chmod/chown (or an xattr change) in a later layer copies the whole file into that layer
 * (overlayfs copy-up keeps size and mtime): same size and mtime, a new regular-file entry. An
 * edit keeps neither in practice (the mtime moves), so this does not read content.
 */
export function isMetadataCopy(t: EncodedTree, old: number, now: number): boolean {
  return old !== now && t.iType[now] === FileType.File && t.iSize[now] === t.iSize[old] && t.iMtime[now] === t.iMtime[old];
}
