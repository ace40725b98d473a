// Apply layer changesets base-first (OCI image-spec layer.md). Per layer: opaque markers and
// whiteouts act on the state left by LOWER layers (so they never hide this layer's entries,
// wherever they sit in the tar), then entries apply in tar order. Every change is recorded as a
// version of its path, so the tree "as of layer k" and each layer's Added/Modified/Deleted list
// come out of the same data.
import { quoted, StrataError } from '../errors.ts';
import { Cause, DiffType, FileType, type EncodedTree } from '../model.ts';
import type { TarEntry } from '../tar/reader.ts';
import { cleanPath } from './paths.ts';
import { joinUtf8 } from '../bytes.ts';

interface Inode {
  id: number;
  /** the node whose entry made it */
  node: number;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  layer: number;
  offset: number;
  link: string | null;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Uint8Array> | null;
}

interface Node {
  id: number;
  name: string;
  parent: Node | null;
  /** every child ever seen (live or deleted), by name */
  children: Map<string, Node> | null;
  inode: Inode | null;
}

export interface LayerCounts { added: number; modified: number; deleted: number; entries: number }

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

const KIND_TYPE: Record<string, FileType> = {
  file: FileType.File, dir: FileType.Dir, symlink: FileType.Symlink, char: FileType.Char, block: FileType.Block, fifo: FileType.Fifo,
};

export class LayerMerger {
  private nodes: Node[] = [];
  private inodes: Inode[] = [];
  private vNode: number[] = [];
  private vLayer: number[] = [];
  private vDiff: number[] = [];
  private vInode: number[] = [];
  private vWhy: number[] = [];
  private root: Node;
  /** state of nodes touched in the current layer, as it was before the layer */
  private before = new Map<Node, Inode | null>();
  /** why each touched node changed in the current layer (the last change wins) */
  private why = new Map<Node, Cause>();
  private deadWhiteouts: { layer: number; path: string }[] = [];
  /** the directory `add` found last (dirAt) */
  private lastDir: Node | null = null;
  private lastDirPath = '';
  private layer = -1;

  constructor(private readonly layerCount: number) {
    this.root = this.newNode('', null);
    this.root.children = new Map();
    this.root.inode = this.newInode(this.root, FileType.Dir, 0o755, 0, 0, 0, -1, 0, 0);
    this.record(this.root, 0, DiffType.Added, this.root.inode.id, Cause.Implicit); // the root exists from the start
  }

  apply(layer: number, entries: TarEntry[], what: string): LayerCounts {
    if (layer !== this.layer + 1) throw new Error(`layers must be applied in order (got ${layer} after ${this.layer})`);
    this.layer = layer;
    this.before.clear();
    const regular: { path: string; e: TarEntry }[] = [];
    const whiteouts: string[] = [];
    const opaques: string[] = [];
    for (const e of entries) {
      const path = cleanPath(e.name, what);
      const slash = path.lastIndexOf('/');
      const base = path.slice(slash + 1);
      if (base.startsWith(WH)) {
        const dir = slash < 0 ? '' : path.slice(0, slash);
        if (base === OPAQUE) { opaques.push(dir); continue; }
        if (base.startsWith(WH + WH)) continue; // other aufs metadata (.wh..wh.plnk …): not content
        const target = base.slice(WH.length);
        if (target === '' || target === '.' || target === '..') {
          throw new StrataError('BAD_WHITEOUT', `${what}: whiteout entry ${quoted(e.name)} names no file (bare "${base}"). The layer is malformed.`);
        }
        whiteouts.push(dir ? `${dir}/${target}` : target);
        continue;
      }
      // entries inside aufs metadata dirs (.wh..wh.plnk/…) are not content either
      if (path.includes('.wh..wh.') && path.split('/').some((c) => c.startsWith(WH + WH))) continue;
      regular.push({ path, e });
    }
    // 1. opaque dirs and whiteouts hide lower-layer content only: apply them before any entry
    for (const dir of opaques) {
      const n = this.lookup(dir);
      if (n?.inode?.type === FileType.Dir) for (const c of n.children!.values()) this.remove(c, Cause.Opaque, Cause.Opaque);
    }
    for (const p of whiteouts) {
      const n = this.lookup(p);
      if (n?.inode) this.remove(n, Cause.Whiteout, Cause.UnderWhiteout);
      else this.deadWhiteouts.push({ layer, path: '/' + p });
    }
    // 2. entries in tar order; later entries for the same path win
    for (const { path, e } of regular) this.add(path, e, what);
    return this.finishLayer(entries.length);
  }

  /** live node at path, or null; never follows symlinks */
  private lookup(path: string): Node | null {
    if (path === '') return this.root;
    let n: Node = this.root;
    for (const part of path.split('/')) {
      if (!n.inode || n.inode.type !== FileType.Dir) return null;
      const c = n.children!.get(part);
      if (!c || !c.inode) return null;
      n = c;
    }
    return n;
  }

  private add(path: string, e: TarEntry, what: string): void {
    if (path === '') {
      if (e.kind === 'dir') this.setInode(this.root, this.inodeFrom(this.root, e, FileType.Dir), Cause.Entry);
      return; // a non-directory root entry cannot be applied; the root stays a directory
    }
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? this.root : this.dirAt(path.slice(0, slash));
    const name = slash < 0 ? path : path.slice(slash + 1);
    let node = dir.children!.get(name);
    if (e.kind === 'hardlink') {
      const inode = this.linkTarget(e, what);
      if (node && node.inode === inode) return; // re-linking the same inode
      if (!node) node = this.child(dir, name);
      else if (node.inode) this.removeChildren(node, Cause.Replaced);
      this.setInode(node, inode, Cause.Hardlink);
      return;
    }
    const type = KIND_TYPE[e.kind];
    if (type === undefined) return; // vendor / unknown entry types carry no filesystem object
    if (!node) node = this.child(dir, name);
    else if (node.inode && !(node.inode.type === FileType.Dir && type === FileType.Dir)) this.removeChildren(node, Cause.Replaced);
    const inode = this.inodeFrom(node, e, type);
    if (type === FileType.Dir) node.children ??= new Map();
    this.setInode(node, inode, Cause.Entry);
  }

  /**
   * The live directory at `dirPath`, made (as tar extraction does) where missing or not a
   * directory. A layer lists a directory's entries together, so the last one found is asked for
   * again and again: it is kept, and still right while it is a live directory — a node stands for
   * one path for good, and a live node's ancestors are live directories (removing a node removes
   * everything below it).
   */
  private dirAt(dirPath: string): Node {
    const last = this.lastDir;
    if (last !== null && dirPath === this.lastDirPath && last.inode !== null && last.inode.type === FileType.Dir) return last;
    let dir = this.root;
    let from = 0;
    for (;;) {
      const to = dirPath.indexOf('/', from);
      dir = this.ensureDir(dir, to < 0 ? dirPath.slice(from) : dirPath.slice(from, to));
      if (to < 0) break;
      from = to + 1;
    }
    this.lastDir = dir;
    this.lastDirPath = dirPath;
    return dir;
  }

  private linkTarget(e: TarEntry, what: string): Inode {
    const target = cleanPath(e.linkname, `${what}: hardlink ${quoted(e.name)}`);
    const t = this.lookup(target);
    let inode = t?.inode ?? null;
    if (!inode) {
      // a file this layer whited out is still the inode the layer's tool linked to
      const n = this.lookupAny(target);
      if (n && this.before.has(n)) inode = this.before.get(n) ?? null;
    }
    if (!inode) {
      throw new StrataError('HARDLINK_MISSING', `${what}: hardlink ${quoted(e.name)} points to ${quoted(e.linkname)}, which does not exist in this layer or any layer below. The layer is malformed.`);
    }
    if (inode.type === FileType.Dir) {
      throw new StrataError('HARDLINK_TO_DIR', `${what}: hardlink ${quoted(e.name)} points to the directory ${quoted(e.linkname)}; hardlinks to directories are not allowed.`);
    }
    return inode;
  }

  /** node at path whether live or not (through live directories) */
  private lookupAny(path: string): Node | null {
    const i = path.lastIndexOf('/');
    const dir = this.lookup(i < 0 ? '' : path.slice(0, i));
    return dir?.children?.get(path.slice(i + 1)) ?? null;
  }

  private ensureDir(parent: Node, name: string): Node {
    let n = parent.children!.get(name);
    if (n?.inode?.type === FileType.Dir) return n;
    if (!n) n = this.child(parent, name);
    else if (n.inode) this.removeChildren(n, Cause.Replaced); // a file/symlink where a directory must be: replaced
    n.children ??= new Map();
    // missing parents are created as root-owned 0755 directories, as tar extraction does
    this.setInode(n, this.newInode(n, FileType.Dir, 0o755, 0, 0, 0, -1, 0, 0), Cause.Implicit);
    return n;
  }

  private child(parent: Node, name: string): Node {
    const n = this.newNode(name, parent);
    parent.children!.set(name, n);
    return n;
  }

  private inodeFrom(node: Node, e: TarEntry, type: FileType): Inode {
    const ino = this.newInode(node, type, e.mode & 0o7777, e.uid, e.gid, e.mtime, type === FileType.File ? this.layer : -1, e.dataOffset, type === FileType.File ? e.size : 0);
    // a symlink's own mode is meaningless on Linux, which always reports 0777
    if (type === FileType.Symlink) { ino.link = e.linkname; ino.mode = 0o777; }
    if (type === FileType.Char || type === FileType.Block) { ino.devmajor = e.devmajor; ino.devminor = e.devminor; }
    if (e.xattrs) ino.xattrs = e.xattrs;
    return ino;
  }

  private touch(n: Node): void {
    if (!this.before.has(n)) this.before.set(n, n.inode);
  }

  private setInode(n: Node, inode: Inode, why: Cause): void {
    this.touch(n);
    this.why.set(n, why);
    n.inode = inode;
  }

  /** delete a live node (for `why`) and everything below it (for `whyBelow`) */
  private remove(n: Node, why: Cause, whyBelow: Cause): void {
    if (!n.inode) return;
    this.removeChildren(n, whyBelow);
    this.touch(n);
    this.why.set(n, why);
    n.inode = null;
  }

  private removeChildren(n: Node, why: Cause): void {
    if (n.children) for (const c of n.children.values()) this.remove(c, why, why);
  }

  private finishLayer(entries: number): LayerCounts {
    const counts: LayerCounts = { added: 0, modified: 0, deleted: 0, entries };
    // record in node-id order so versions stay sorted by (node, layer) after a stable sort
    const touched = [...this.before.entries()].sort((a, b) => a[0].id - b[0].id);
    for (const [n, was] of touched) {
      const now = n.inode;
      if (!was && !now) continue;
      const diff = !was ? DiffType.Added : !now ? DiffType.Deleted : DiffType.Modified;
      if (n === this.root && this.layer === 0 && diff === DiffType.Modified) {
        // the root's initial version is the layer-0 version; update it in place
        this.vInode[0] = now!.id;
        this.vWhy[0] = this.why.get(n) ?? Cause.Entry;
        continue;
      }
      this.record(n, this.layer, diff, now ? now.id : -1, this.why.get(n) ?? Cause.Entry);
      if (n === this.root) continue; // the root itself is not a change users care about
      if (diff === DiffType.Added) counts.added++;
      else if (diff === DiffType.Deleted) counts.deleted++;
      else counts.modified++;
    }
    this.before.clear();
    this.why.clear();
    return counts;
  }

  private record(n: Node, layer: number, diff: DiffType, inode: number, why: Cause): void {
    this.vNode.push(n.id); this.vLayer.push(layer); this.vDiff.push(diff); this.vInode.push(inode); this.vWhy.push(why);
  }

  private newNode(name: string, parent: Node | null): Node {
    const n: Node = { id: this.nodes.length, name, parent, children: null, inode: null };
    this.nodes.push(n);
    return n;
  }

  private newInode(node: Node, type: FileType, mode: number, uid: number, gid: number, mtime: number, layer: number, offset: number, size: number): Inode {
    const i: Inode = { id: this.inodes.length, node: node.id, type, mode, uid, gid, size, mtime, layer, offset, link: null, devmajor: 0, devminor: 0, xattrs: null };
    this.inodes.push(i);
    return i;
  }

  encode(): EncodedTree {
    const N = this.nodes.length;
    const parent = new Int32Array(N);
    const names = new Array<string>(N);
    for (const n of this.nodes) {
      parent[n.id] = n.parent ? n.parent.id : -1;
      names[n.id] = n.name;
    }
    const { bytes: nameBytes, offsets: nameOffsets } = joinUtf8(names);
    // versions: counting sort by node (stable, so layer order is kept)
    const V = this.vNode.length;
    const verStart = new Uint32Array(N + 1);
    for (let v = 0; v < V; v++) verStart[this.vNode[v] + 1]++;
    for (let i = 0; i < N; i++) verStart[i + 1] += verStart[i];
    const fill = verStart.slice(0, N);
    const vLayer = new Uint16Array(V), vDiff = new Uint8Array(V), vInode = new Int32Array(V), vWhy = new Uint8Array(V);
    for (let v = 0; v < V; v++) {
      const at = fill[this.vNode[v]]++;
      vLayer[at] = this.vLayer[v]; vDiff[at] = this.vDiff[v]; vInode[at] = this.vInode[v]; vWhy[at] = this.vWhy[v];
    }
    const I = this.inodes.length;
    const t: EncodedTree = {
      layerCount: this.layerCount, nodeCount: N, parent, nameBytes, nameOffsets, verStart, vLayer, vDiff, vInode, vWhy,
      iType: new Uint8Array(I), iMode: new Uint32Array(I), iUid: new Uint32Array(I), iGid: new Uint32Array(I),
      iSize: new Float64Array(I), iMtime: new Float64Array(I), iLayer: new Int16Array(I), iOffset: new Float64Array(I),
      iDevMajor: new Uint32Array(I), iDevMinor: new Uint32Array(I), iLink: new Int32Array(I), iNode: new Int32Array(I),
      linkBytes: new Uint8Array(0), linkOffsets: new Uint32Array(0), xattrs: [], deadWhiteouts: this.deadWhiteouts,
    };
    const links: string[] = [];
    for (const i of this.inodes) {
      t.iType[i.id] = i.type; t.iMode[i.id] = i.mode; t.iUid[i.id] = i.uid; t.iGid[i.id] = i.gid;
      t.iSize[i.id] = i.size; t.iMtime[i.id] = i.mtime; t.iLayer[i.id] = i.layer; t.iOffset[i.id] = i.offset;
      t.iDevMajor[i.id] = i.devmajor; t.iDevMinor[i.id] = i.devminor; t.iNode[i.id] = i.node;
      if (i.link !== null) {
        links.push(i.link);
        t.iLink[i.id] = links.length - 1;
      } else t.iLink[i.id] = -1;
      if (i.xattrs) for (const [name, value] of Object.entries(i.xattrs)) t.xattrs.push({ inode: i.id, name, value });
    }
    ({ bytes: t.linkBytes, offsets: t.linkOffsets } = joinUtf8(links));
    return t;
  }
}
