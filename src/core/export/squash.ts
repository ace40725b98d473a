// The squashed layer: layers keep+1..N as ONE changeset over the state the first `keep` layers
// leave (OCI image-spec layer.md), as tar records. Applying it to that state gives the image's
// final filesystem; with keep = 0 it is the flattened tar, byte for byte.
import { FileType, type EncodedTree } from '../model.ts';
import { encodeHeader } from '../tar/writer.ts';
import { FileTree } from '../tree/file-tree.ts';
import { RecordWriter, type TarRecord } from './tar-export.ts';

/**
 * Records of the changeset from the state as of layer `keep` (1-based: layers 1..keep kept;
 * 0: from nothing) to the last layer.
 *
 * A path is written when it exists at the end and did not exist below, or is another inode (new
 * content, metadata, type or link). Directories that did not change are not written, but their
 * children are compared. A path that existed below and is gone at the end gets an explicit
 * whiteout `.wh.NAME` in its parent, before the parent's other entries — the spec's preferred
 * form ("Implementations SHOULD generate layers using explicit whiteout files"); a directory that
 * was emptied or re-created is therefore one whiteout per lower child, never an opaque marker, and
 * a type change needs none (the applier replaces a path by an entry of another type). A hardlink
 * to an inode a kept path still holds links to that path; otherwise the group's first path
 * written carries the content.
 */
export function* squashRecords(tree: EncodedTree, keep: number, ft: FileTree = new FileTree(tree)): Generator<TarRecord> {
  if (!Number.isInteger(keep) || keep < 0 || keep >= tree.layerCount) throw new RangeError(`keep must be 0..${tree.layerCount - 1}, got ${keep}`);
  const ix = ft.index;
  const last = tree.layerCount - 1;
  const below = keep - 1;
  const liveN = ft.liveAt(last);
  const liveK = below >= 0 ? ft.liveAt(below) : new Uint8Array(tree.nodeCount);
  const same = (n: number) => liveK[n] === 1 && ix.inodeAt(n, below) === ix.inodeAt(n, last);
  const name = (n: number) => (n === 0 ? './' : ix.path(n).slice(1));

  // inodes that an unchanged path below still holds: later members of their group link there
  const firstPath = new Map<number, string>();
  if (below >= 0) {
    for (let n = 1; n < tree.nodeCount; n++) {
      if (!liveN[n] || !same(n)) continue;
      const ino = ix.inodeAt(n, last);
      if (tree.iType[ino] === FileType.Dir) continue;
      const p = name(n);
      const known = firstPath.get(ino);
      // the first by path bytes, so the choice does not depend on node numbering
      if (known === undefined || bytewiseLess(p, known)) firstPath.set(ino, p);
    }
  }

  const w = new RecordWriter(tree, ix);
  const stack: number[] = [0];
  while (stack.length) {
    const n = stack.pop()!;
    const ino = ix.inodeAt(n, last);
    if (!same(n)) w.entry(ino, name(n), firstPath);
    if (tree.iType[ino] === FileType.Dir || n === 0) {
      const kids = ix.children(n);
      const dir = n === 0 ? '' : name(n) + '/';
      for (const c of kids) if (liveK[c] && !liveN[c]) w.push(whiteout(dir + ix.name(c)));
      for (let i = kids.length - 1; i >= 0; i--) if (liveN[kids[i]]) stack.push(kids[i]);
    }
    yield* w.take();
  }
  w.end();
  yield* w.take();
}

/** A whiteout entry: an empty file, mode 0, owned by root, mtime 0 (as umoci writes them). */
function whiteout(path: string): Uint8Array {
  const slash = path.lastIndexOf('/');
  return encodeHeader({ name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, kind: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });
}

const utf8 = new TextEncoder();
function bytewiseLess(a: string, b: string): boolean {
  const x = utf8.encode(a), y = utf8.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return x.length < y.length;
}
