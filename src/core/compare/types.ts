// What a comparison of two images (or two layers of one) finds: the paths whose merged state
// differs, sizes, packages, config and shared layers. Layers are numbered from 1 here, as in the
// CLI's JSON; content locations inside FileState keep the model's 0-based layer.
import type { Ecosystem } from '../analysis/types.ts';

export type FileChange = 'added' | 'modified' | 'deleted';

/**
 * What makes a path modified. mtime is never one of them: rebuilding an image touches every
 * mtime, and a path whose only difference is its mtime is not listed.
 */
export type ChangeWhat = 'type' | 'content' | 'link' | 'device' | 'mode' | 'owner' | 'xattrs';
export const CHANGE_WHATS: readonly ChangeWhat[] = ['type', 'content', 'link', 'device', 'mode', 'owner', 'xattrs'];

export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** A path's state on one side. */
export interface FileState {
  type: EntryType;
  /** permission bits incl. setuid/setgid/sticky */
  mode: number;
  uid: number;
  gid: number;
  /** content bytes of a regular file; for a directory, the bytes of the regular files below it */
  size: number;
  mtime: number;
  link?: string;
  dev?: [number, number];
  /** extended attribute names */
  xattrs?: string[];
  /** where a regular file's content is: the side's 0-based layer and offset in its uncompressed stream */
  content?: { layer: number; offset: number };
  /** "sha256:<hex>", when it was computed to decide the comparison */
  sha256?: string;
}

export interface FileDiff {
  path: string;
  change: FileChange;
  /** for `modified`: what differs, in CHANGE_WHATS order */
  what: ChangeWhat[];
  a: FileState | null;
  b: FileState | null;
  /**
   * Same size, content from different sources, not hashed yet: whether the content differs is not
   * known. With an empty `what` the path may turn out unchanged (and then leaves the list).
   */
  pending?: boolean;
}

export interface FileCounts {
  added: number;
  modified: number;
  deleted: number;
  /** paths that differ only if their content does: hashing decides */
  pending: number;
}

export interface PackageChange {
  ecosystem: Ecosystem;
  name: string;
  arch: string | null;
  change: 'added' | 'removed' | 'changed';
  /** A's version (null when added) */
  from: string | null;
  /** B's version (null when removed) */
  to: string | null;
  /** where the package lives (database, metadata file or binary) on the side that has it (B's for a change) */
  location: string;
}

export type ConfigField = 'env' | 'entrypoint' | 'cmd' | 'user' | 'workingDir' | 'exposedPorts' | 'volumes' | 'labels' | 'stopSignal' | 'platform' | 'history';

export interface ConfigChange {
  field: ConfigField;
  /** the variable, port, volume or label for the keyed fields */
  key?: string;
  change: 'added' | 'removed' | 'changed';
  a: string | null;
  b: string | null;
}

export interface LayerComparison {
  /** layers of each side up to the layer compared */
  layersA: number;
  layersB: number;
  /** how many leading layers the two sides share (same diff_id) */
  shared: number;
  /** B's layers (1-based) whose diff_id none of A's layers has */
  newInB: number[];
}

export interface CompareSideInfo {
  /** the image's name (first tag) */
  name: string;
  /** 1-based layer the side is taken at */
  layer: number;
  /** layers in the image */
  layerCount: number;
}

export interface SizeRow {
  /** a top-level entry ("/usr") */
  path: string;
  a: number;
  b: number;
}

/** Content hashing needed to decide equal-sized files with different sources. */
export interface HashWork {
  /** files to hash (each distinct source once) and their bytes */
  files: number;
  bytes: number;
  done: number;
  doneBytes: number;
}

export interface Comparison {
  format: 1;
  a: CompareSideInfo;
  b: CompareSideInfo;
  /** sorted by the path's UTF-8 bytes */
  files: FileDiff[];
  counts: FileCounts;
  /** bytes of the regular files of each side (each path counted) */
  sizeA: number;
  sizeB: number;
  /** per top-level entry with bytes on either side, sorted by path */
  topLevel: SizeRow[];
  /** null when a side's package list is not known (the note says why) */
  packages: PackageChange[] | null;
  packagesNote: string | null;
  config: ConfigChange[];
  layers: LayerComparison;
  hashing: HashWork;
  /** true once every pending content question is answered */
  complete: boolean;
}
