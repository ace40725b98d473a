// The merged tree (or a subtree) as of a layer, as a POSIX tar: a sequence of parts, header bytes
// and Blob slices of the decompressed layer streams, so content is never copied through JS.
// Parents come before children; a hardlink group is one file plus hardlink entries.
import { FileType, type EncodedTree } from '../model.ts';
import { encodeHeader, endOfArchive, padding, type WriteEntry, type WriteKind } from '../tar/writer.ts';
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
const ZEROS = new Uint8Array(512);
const COALESCE = 64 << 10;

/** Parts of the tar, in order: header bytes and Blob slices of the layers' content. */
export function* tarParts(tree: EncodedTree, content: ContentSource, opts: TarExportOptions = {}, index?: TreeIndex): Generator<TarPart> {
  for (const r of tarRecords(tree, opts, index)) {
    yield r instanceof Uint8Array ? r : content(r.layer).slice(r.offset, r.offset + r.size);
  }
}

/** Records of the tar, in order. Small header runs are coalesced into one buffer. */
export function* tarRecords(tree: EncodedTree, opts: TarExportOptions = {}, index?: TreeIndex): Generator<TarRecord> {
  const ix = index ?? new TreeIndex(tree);
  const k = opts.layer ?? tree.layerCount - 1;
  let start = 0;
  if (opts.path && opts.path !== '/') {
    start = ix.lookup(opts.path);
    if (start < 0 || ix.inodeAt(start, k) < 0) throw new StrataError('NOT_FOUND', `"${opts.path}" does not exist in the image as of layer ${k + 1}.`);
  }
  // names are relative to the exported node's parent ("etc/…" for /etc), "./" for the root
  const strip = start === 0 || ix.t.parent[start] === 0 ? 1 : ix.path(ix.t.parent[start]).length + 1;
  const firstPath = new Map<number, string>(); // inode -> name of its first member written
  let buf: Uint8Array[] = [];
  let bufLen = 0;
  const out: TarRecord[] = [];
  const flush = () => {
    if (!bufLen) return;
    out.push(buf.length === 1 ? buf[0] : concat(buf, bufLen));
    buf = []; bufLen = 0;
  };
  const push = (b: Uint8Array) => { buf.push(b); bufLen += b.length; if (bufLen >= COALESCE) flush(); };

  const stack: number[] = [start];
  while (stack.length) {
    const n = stack.pop()!;
    const inode = ix.inodeAt(n, k);
    if (inode < 0) continue;
    const type = tree.iType[inode] as FileType;
    const kind = KIND[type];
    const name = n === 0 ? './' : ix.path(n).slice(strip);
    if (kind) {
      const base: WriteEntry = {
        name, kind, mode: tree.iMode[inode], uid: tree.iUid[inode], gid: tree.iGid[inode], mtime: tree.iMtime[inode],
        xattrs: ix.xattrsOf(inode),
      };
      const leader = type === FileType.Dir ? undefined : firstPath.get(inode);
      if (leader !== undefined) {
        push(encodeHeader({ ...base, kind: 'hardlink', linkname: leader }));
      } else {
        if (type !== FileType.Dir) firstPath.set(inode, name);
        if (type === FileType.File) {
          const size = tree.iSize[inode];
          push(encodeHeader({ ...base, size }));
          if (size > 0) {
            flush();
            const off = tree.iOffset[inode];
            out.push({ layer: tree.iLayer[inode], offset: off, size });
            const pad = padding(size);
            if (pad) push(ZEROS.subarray(0, pad));
          }
        } else if (type === FileType.Symlink) {
          push(encodeHeader({ ...base, linkname: ix.linkTarget(inode) ?? '' }));
        } else if (type === FileType.Char || type === FileType.Block) {
          push(encodeHeader({ ...base, devmajor: tree.iDevMajor[inode], devminor: tree.iDevMinor[inode] }));
        } else {
          push(encodeHeader(base));
        }
      }
    }
    if (out.length) { yield* out; out.length = 0; }
    if (type === FileType.Dir) {
      const kids = ix.children(n);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
  }
  push(endOfArchive());
  flush();
  yield* out;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const o = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) { o.set(c, p); p += c.length; }
  return o;
}

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
