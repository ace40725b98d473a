// The merged tree (or a subtree) as of a layer, as a POSIX tar: a sequence of parts, header bytes
// and Blob slices of the decompressed layer streams, so content is never copied through JS.
// Parents come before children; a hardlink group is one file plus hardlink entries.
import { FileType, type EncodedTree } from '../model.ts';
import { encodeHeader, encodeHeaderInto, endOfArchive, padding, type WriteEntry, type WriteKind } from '../tar/writer.ts';
import { TreeIndex } from '../tree/tree-index.ts';
import { StrataError } from '../errors.ts';

export type ContentSource = (layer: number) => Blob;
export type TarPart = Uint8Array | Blob;
/** file content by reference: bytes [offset, offset+size) of layer's uncompressed stream */
export interface ContentRef { layer: number; offset: number; size: number }
export type TarRecord = Uint8Array | ContentRef;

export interface TarExportOptions {
  /** as of this layer (default: the last) */
  layer?: number;
  /** export the subtree at this path (default: the whole root filesystem) */
  path?: string;
}

const KIND: Partial<Record<FileType, WriteKind>> = {
  [FileType.File]: 'file', [FileType.Dir]: 'dir', [FileType.Symlink]: 'symlink',
  [FileType.Char]: 'char', [FileType.Block]: 'block', [FileType.Fifo]: 'fifo',
};
/** header runs between content are gathered in buffers of this size */
const RUN = 64 << 10;

/** Parts of the tar, in order: header bytes and Blob slices of the layers' content. */
export function* tarParts(tree: EncodedTree, content: ContentSource, opts: TarExportOptions = {}, index?: TreeIndex): Generator<TarPart> {
  for (const r of tarRecords(tree, opts, index)) {
    yield r instanceof Uint8Array ? r : content(r.layer).slice(r.offset, r.offset + r.size);
  }
}

/** Records of the tar, in order. Small header runs are coalesced into one buffer. */
export function* tarRecords(tree: EncodedTree, opts: TarExportOptions = {}, index?: TreeIndex): Generator<TarRecord> {
  const ix = index ?? new TreeIndex(tree);
  const { start, k } = exportRoot(ix, opts);
  // names are relative to the exported node's parent ("etc/…" for /etc), "./" for the root
  const strip = start === 0 || ix.t.parent[start] === 0 ? 1 : ix.path(ix.t.parent[start]).length + 1;
  const firstPath = new Map<number, string>(); // inode -> name of its first member written
  const w = new RecordWriter(tree, ix);
  for (const [n, inode] of exportWalk(ix, start, k)) {
    w.entry(inode, n === 0 ? './' : ix.path(n).slice(strip), firstPath);
    yield* w.take();
  }
  w.end();
  yield* w.take();
}

/**
 * The content references of tarRecords(tree, opts), in the same order, without making the
 * headers (a plan of how the export reads each layer).
 */
export function* tarContentRefs(tree: EncodedTree, opts: TarExportOptions = {}, index?: TreeIndex): Generator<ContentRef> {
  const ix = index ?? new TreeIndex(tree);
  const { start, k } = exportRoot(ix, opts);
  const written = new Set<number>();
  for (const [, inode] of exportWalk(ix, start, k)) {
    if (tree.iType[inode] !== FileType.File || written.has(inode)) continue; // later ones: hardlinks
    written.add(inode);
    if (tree.iSize[inode] > 0) yield { layer: tree.iLayer[inode], offset: tree.iOffset[inode], size: tree.iSize[inode] };
  }
}

function exportRoot(ix: TreeIndex, opts: TarExportOptions): { start: number; k: number } {
  const k = opts.layer ?? ix.t.layerCount - 1;
  let start = 0;
  if (opts.path && opts.path !== '/') {
    start = ix.lookup(opts.path);
    if (start < 0 || ix.inodeAt(start, k) < 0) throw new StrataError('NOT_FOUND', `"${opts.path}" does not exist in the image as of layer ${k + 1}.`);
  }
  return { start, k };
}

/** The exported nodes depth-first in name order, with their inodes as of layer k. */
function* exportWalk(ix: TreeIndex, start: number, k: number): Generator<[number, number]> {
  const stack: number[] = [start];
  while (stack.length) {
    const n = stack.pop()!;
    const inode = ix.inodeAt(n, k);
    if (inode < 0) continue;
    yield [n, inode];
    if (ix.t.iType[inode] === FileType.Dir) {
      const kids = ix.children(n);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
  }
}

/**
 * Turns inodes into tar records: header bytes (small runs coalesced into one buffer), content
 * references and their padding. Shared by the flattened export and the squashed layer.
 */
export class RecordWriter {
  /**
   * Header bytes are written in place into `cur` (zeros past `at`; padding is skipped over), and
   * each run between two files' content goes out as a view of it, [start, at). A new buffer only
   * when one is full: a fresh one per run was 56k zeroed 64 KiB allocations on a 70k-entry tree.
   * Consumers copy records (or clone them); one that transferred a record's buffer would detach
   * the records after it.
   */
  private cur = new Uint8Array(RUN);
  private start = 0;
  private at = 0;
  private out: TarRecord[] = [];

  constructor(private readonly tree: EncodedTree, private readonly ix: TreeIndex) {}

  /**
   * One entry for `inode` at `name`. A non-directory inode already in `firstPath` (a hardlink group
   * written before, or a path the layer below keeps) becomes a hardlink to that name; otherwise it
   * is written whole and remembered there.
   */
  entry(inode: number, name: string, firstPath: Map<number, string>): void {
    const tree = this.tree;
    const type = tree.iType[inode] as FileType;
    const kind = KIND[type];
    if (!kind) return; // sockets: tar has no entry type for them
    const e: WriteEntry = {
      name, kind, mode: tree.iMode[inode], uid: tree.iUid[inode], gid: tree.iGid[inode], mtime: tree.iMtime[inode],
      xattrs: this.ix.xattrsOf(inode),
    };
    const leader = type === FileType.Dir ? undefined : firstPath.get(inode);
    if (leader !== undefined) { e.kind = 'hardlink'; e.linkname = leader; this.header(e); return; }
    if (type !== FileType.Dir) firstPath.set(inode, name);
    if (type === FileType.File) e.size = tree.iSize[inode];
    else if (type === FileType.Symlink) e.linkname = this.ix.linkTarget(inode) ?? '';
    else if (type === FileType.Char || type === FileType.Block) { e.devmajor = tree.iDevMajor[inode]; e.devminor = tree.iDevMinor[inode]; }
    this.header(e);
    const size = e.size ?? 0;
    if (size > 0) {
      this.flush();
      this.out.push({ layer: tree.iLayer[inode], offset: tree.iOffset[inode], size });
      const pad = padding(size);
      if (this.at + pad > this.cur.length) this.renew();
      this.at += pad; // zeros already
    }
  }

  /** the header of `e`, written in place (a new run when it does not fit; a huge PAX one alone) */
  private header(e: WriteEntry): void {
    let n = encodeHeaderInto(e, this.cur, this.at);
    if (!n) { this.renew(); n = encodeHeaderInto(e, this.cur, this.at); } // no room left in this buffer
    if (n) this.at += n;
    else this.push(encodeHeader(e)); // PAX records longer than a buffer
  }

  /** raw header bytes (a whiteout) */
  push(b: Uint8Array): void {
    if (b.length > RUN) { this.flush(); this.out.push(b); return; }
    if (this.at + b.length > this.cur.length) this.renew();
    this.cur.set(b, this.at);
    this.at += b.length;
  }

  /** the end-of-archive blocks */
  end(): void {
    this.push(endOfArchive());
    this.flush();
  }

  /** the records made so far (taken out of the writer) */
  take(): TarRecord[] {
    if (!this.out.length) return NONE;
    const o = this.out;
    this.out = [];
    return o;
  }

  /** the run so far goes out */
  private flush(): void {
    if (this.at === this.start) return;
    this.out.push(this.cur.subarray(this.start, this.at));
    this.start = this.at;
  }

  /** the run so far goes out, and the next is written into a new buffer */
  private renew(): void {
    this.flush();
    this.cur = new Uint8Array(RUN);
    this.start = this.at = 0;
  }
}

const NONE: TarRecord[] = [];

/** The tar as one Blob (the browser stitches the parts; nothing is copied through JS). */
export function tarBlob(tree: EncodedTree, content: ContentSource, opts: TarExportOptions = {}, index?: TreeIndex): Blob {
  return new Blob([...tarParts(tree, content, opts, index)] as BlobPart[], { type: 'application/x-tar' });
}

/** One file's bytes as a Blob slice. */
export function fileBlob(tree: EncodedTree, content: ContentSource, inode: number): Blob {
  if (tree.iType[inode] !== FileType.File) throw new StrataError('NOT_FOUND', 'Only regular files have content to download.');
  const off = tree.iOffset[inode];
  return content(tree.iLayer[inode]).slice(off, off + tree.iSize[inode]);
}
