// The image model shared by every layer of the app: archive/image summaries, layer metadata,
// and the encoded merged tree (columnar typed arrays — cheap to transfer, store and reopen).

/** dive's vocabulary. Deleted is dive's "Removed". */
export enum DiffType { Unmodified = 0, Added = 1, Modified = 2, Deleted = 3 }
export const DIFF_NAMES = ['Unmodified', 'Added', 'Modified', 'Deleted'] as const;

/**
 * Why a version exists: what in the layer tar made the change. Analyses need it (which layer hid
 * a file, and how; dive's view of a layer as its list of entries).
 */
export enum Cause {
  /** an entry of the layer's tar at this path (not a hardlink) */
  Entry = 0,
  /** a hardlink entry at this path */
  Hardlink = 1,
  /** a directory the merge created because an entry below it needed one */
  Implicit = 2,
  /** deleted by a whiteout naming this path */
  Whiteout = 3,
  /** deleted because a whiteout named an ancestor */
  UnderWhiteout = 4,
  /** deleted by an opaque-directory marker of an ancestor */
  Opaque = 5,
  /** deleted because this path or an ancestor was replaced by an entry of another type */
  Replaced = 6,
}

/** Node types in the merged tree. A hardlink is not a type: it is two paths sharing one inode. */
export enum FileType { File = 0, Dir = 1, Symlink = 2, Char = 3, Block = 4, Fifo = 5, Socket = 6 }
export const FILE_TYPE_NAMES = ['file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket'] as const;

export type ArchiveFormat =
  | 'docker-save'        // manifest.json (v1.2), incl. kaniko
  | 'docker-save-oci'    // Docker 25+: manifest.json + OCI layout
  | 'oci-layout'         // oci-layout + index.json
  | 'docker-legacy'      // repositories + <id>/json parent chain, no manifest.json
  | 'rootfs'             // a plain filesystem tar (docker export) treated as one layer
  | 'registry';          // pulled from a registry (OCI distribution API), not from an archive

export type Compression = 'none' | 'gzip' | 'zstd';

export interface Platform { os: string; architecture: string; variant?: string }

export interface ImageSummary {
  /** position in ArchiveInfo.images; what `--image N` selects */
  index: number;
  /** a human name: first tag, ref-name annotation, or a short digest */
  name: string;
  tags: string[];
  platform?: Platform;
  /** manifest digest, where the archive has one */
  digest?: string;
  layerCount: number;
}

export interface ArchiveInfo {
  format: ArchiveFormat;
  /** outer gzip wrapper (`docker save | gzip`) */
  outerCompression: Compression;
  images: ImageSummary[];
  /** entries skipped on purpose, with the reason (attestations, other platforms…) */
  skipped: { what: string; why: string }[];
}

export interface HistoryEntry {
  created?: string;
  createdBy?: string;
  comment?: string;
  author?: string;
  emptyLayer: boolean;
  /** layer index this history entry describes; null for empty_layer entries */
  layer: number | null;
}

export interface ConfigSummary {
  os?: string;
  architecture?: string;
  variant?: string;
  created?: string;
  author?: string;
  user?: string;
  workingDir?: string;
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  exposedPorts: string[];
  volumes: string[];
  labels: Record<string, string>;
  stopSignal?: string;
}

export type VerifyState = 'pending' | 'verified' | 'mismatch' | 'unverifiable';

export interface LayerVerify {
  state: VerifyState;
  /** what failed and both digests, or why it cannot be verified */
  detail?: string;
}

export interface LayerInfo {
  index: number;
  /** compressed blob digest from the manifest (or the blob's path), if any */
  digest?: string;
  /** uncompressed sha256 from config rootfs.diff_ids, if any */
  diffId?: string;
  mediaType: string;
  compression: Compression;
  compressedSize: number;
  /** uncompressed tar stream size; known after decoding */
  size?: number;
  /** the archive member name (for messages) */
  member: string;
  createdBy?: string;
  created?: string;
  comment?: string;
  /** change counts; filled after merging */
  added?: number;
  modified?: number;
  deleted?: number;
  entries?: number;
  verify?: LayerVerify;
}

/** Where a pulled image came from. Stored with the image (an optional field: older records lack it). */
export interface RegistrySource {
  /** the reference as opened, in full: "127.0.0.1:5000/edge:v1", "docker.io/library/alpine:3.20" */
  reference: string;
  /** sha256 of the image manifest that was read (the chosen platform's, for an index) */
  digest: string;
  /** sha256 of the index the platform was chosen from, when the reference named an index */
  indexDigest?: string;
}

export interface ImageMeta {
  /** the archive's file name and size; for a pulled image its reference and compressed size, and `registry` */
  source: { name: string; size: number; registry?: RegistrySource };
  format: ArchiveFormat;
  image: ImageSummary;
  config: ConfigSummary;
  history: HistoryEntry[];
  layers: LayerInfo[];
  /** the raw config JSON, for the "config" view */
  rawConfig: string;
}

/**
 * The merged tree, columnar. Node 0 is the root. Nodes are the union of every path that ever
 * existed in any layer; each node has versions (one per change event, sorted by layer), each
 * version points at an inode (or -1 when the event is a deletion). The state of a path as of
 * layer k is its last version with layer <= k. Hardlinked paths share an inode.
 */
export interface EncodedTree {
  layerCount: number;
  nodeCount: number;
  parent: Int32Array;          // [node] -> parent node, -1 for the root
  nameBytes: Uint8Array;       // UTF-8 names, concatenated
  nameOffsets: Uint32Array;    // [nodeCount+1]
  verStart: Uint32Array;       // [nodeCount+1]: versions of node n are verStart[n] .. verStart[n+1]-1
  vLayer: Uint16Array;         // [version] layer index that made the change
  vDiff: Uint8Array;           // [version] DiffType (Added / Modified / Deleted)
  vInode: Int32Array;          // [version] inode, -1 for Deleted
  vWhy: Uint8Array;            // [version] Cause
  iType: Uint8Array;           // [inode] FileType
  iMode: Uint32Array;          // permission bits incl. setuid/setgid/sticky (07777)
  iUid: Uint32Array;
  iGid: Uint32Array;
  iSize: Float64Array;         // content size of regular files, 0 otherwise
  iMtime: Float64Array;        // seconds since epoch, may be fractional
  iLayer: Int16Array;          // layer whose decompressed stream holds the content, -1 none
  iOffset: Float64Array;       // offset of the content in that stream
  iDevMajor: Uint32Array;
  iDevMinor: Uint32Array;
  iLink: Int32Array;           // symlink target index into linkBytes/linkOffsets, -1 none
  /** [inode] the node whose entry made it (a hardlink group's first path); every regular-file
   *  entry of every layer has its own inode, even one a later entry of its layer replaced */
  iNode: Int32Array;
  linkBytes: Uint8Array;
  linkOffsets: Uint32Array;
  /** sparse xattrs: inode -> name -> raw bytes */
  xattrs: { inode: number; name: string; value: Uint8Array }[];
  /** whiteouts whose target did not exist (they change nothing; dive's numbers count them) */
  deadWhiteouts: { layer: number; path: string }[];
}

/** A path's state as of one layer, decoded from EncodedTree (what views and exports use). */
export interface FileInfo {
  node: number;
  inode: number;
  path: string;          // "/"-rooted
  name: string;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkTarget?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, Uint8Array>;
  /** content location: decompressed stream of `layer`, bytes [offset, offset+size) */
  content?: { layer: number; offset: number; size: number };
  /** diff mark of this path in the layer asked for */
  diff: DiffType;
  /** the layer that last changed this path, as of the layer asked for */
  layer: number;
}

/** Everything an import produces, before storage. */
export interface ImageModel { meta: ImageMeta; tree: EncodedTree }
