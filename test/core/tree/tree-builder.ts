// Hand-built EncodedTree inputs for tests: layers of ops → the columnar model, as a merge would
// encode it. Missing parent directories are added implicitly; nothing else is inferred (a deleted
// directory does not get deletions for its children unless the test says so).
import { Cause, DiffType, FileType, type EncodedTree } from '../../../src/core/model.ts';

export interface Attrs {
  mode?: number; uid?: number; gid?: number; size?: number; mtime?: number;
  dev?: [number, number]; xattrs?: Record<string, string>;
  /** file content (sets size); placed in the layer's stream at the inode's offset */
  content?: string | Uint8Array;
  /** override the diff mark the builder would choose */
  diff?: DiffType;
}

export type Op =
  | { op: 'dir' | 'file' | 'fifo' | 'char' | 'block' | 'socket'; path: string; attrs: Attrs }
  | { op: 'symlink'; path: string; target: string; attrs: Attrs }
  | { op: 'hardlink'; path: string; target: string; attrs: Attrs }
  | { op: 'delete'; path: string; attrs: Attrs };

export const dir = (path: string, attrs: Attrs = {}): Op => ({ op: 'dir', path, attrs });
export const file = (path: string, attrs: Attrs = {}): Op => ({ op: 'file', path, attrs });
export const fifo = (path: string, attrs: Attrs = {}): Op => ({ op: 'fifo', path, attrs });
export const chr = (path: string, dev: [number, number], attrs: Attrs = {}): Op => ({ op: 'char', path, attrs: { ...attrs, dev } });
export const symlink = (path: string, target: string, attrs: Attrs = {}): Op => ({ op: 'symlink', path, target, attrs });
export const hardlink = (path: string, target: string, attrs: Attrs = {}): Op => ({ op: 'hardlink', path, target, attrs });
export const del = (path: string, attrs: Attrs = {}): Op => ({ op: 'delete', path, attrs });

const TYPES: Record<string, FileType> = {
  dir: FileType.Dir, file: FileType.File, fifo: FileType.Fifo, char: FileType.Char,
  block: FileType.Block, socket: FileType.Socket, symlink: FileType.Symlink,
};

interface Inode { node: number; type: FileType; mode: number; uid: number; gid: number; size: number; mtime: number; layer: number; offset: number; dev: [number, number]; link: string | null; xattrs?: Record<string, string> }

export function buildTree(layers: Op[][]): EncodedTree {
  return buildImage(layers).tree;
}

/** The tree plus each layer's "decompressed stream" holding file contents at their offsets. */
export function buildImage(layers: Op[][]): { tree: EncodedTree; streams: Uint8Array[] } {
  const streams: Uint8Array[] = layers.map(() => new Uint8Array(0));
  const put = (layer: number, offset: number, bytes: Uint8Array) => {
    const s = streams[layer];
    if (s.length < offset + bytes.length) {
      const grown = new Uint8Array(offset + bytes.length);
      grown.set(s);
      streams[layer] = grown;
    }
    streams[layer].set(bytes, offset);
  };
  const names: string[] = [''];
  const parents: number[] = [-1];
  const byPath = new Map<string, number>([['/', 0]]);
  const versions: { node: number; layer: number; diff: DiffType; inode: number; why: Cause }[][] = [[]];
  const current = new Map<number, number>(); // node -> inode (-1 deleted)
  const inodes: Inode[] = [];
  const offsets = new Array(layers.length).fill(0);

  const clean = (path: string) => '/' + path.split('/').filter(Boolean).join('/');
  const parentOf = (p: string) => (p.lastIndexOf('/') === 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
  /** the node for a path (created on first use), with its ancestors made live directories */
  const nodeFor = (path: string, layer: number): number => {
    const p = clean(path);
    if (p === '/') return 0;
    const parent = nodeFor(parentOf(p), layer);
    if (parent !== 0 && (current.get(parent) ?? -1) < 0) addVersion(parent, layer, newInode(parent, dir(parentOf(p)), layer), {}, Cause.Implicit);
    const known = byPath.get(p);
    if (known !== undefined) return known;
    const id = names.length;
    names.push(p.slice(p.lastIndexOf('/') + 1));
    parents.push(parent);
    versions.push([]);
    byPath.set(p, id);
    return id;
  };
  const newInode = (node: number, op: Op, layer: number): number => {
    const a = op.attrs;
    const type = TYPES[op.op];
    const content = typeof a.content === 'string' ? new TextEncoder().encode(a.content) : a.content;
    const size = type === FileType.File ? content?.length ?? a.size ?? 0 : 0;
    if (content && type === FileType.File) put(layer, offsets[layer] + 512, content);
    inodes.push({
      node, type, mode: a.mode ?? (type === FileType.Dir ? 0o755 : type === FileType.Symlink ? 0o777 : 0o644),
      uid: a.uid ?? 0, gid: a.gid ?? 0, size, mtime: a.mtime ?? 1_700_000_000 + layer,
      layer: type === FileType.File ? layer : -1, offset: offsets[layer] + 512, dev: a.dev ?? [0, 0],
      link: op.op === 'symlink' ? op.target : null, xattrs: a.xattrs,
    });
    offsets[layer] += 512 + Math.ceil(size / 512) * 512;
    return inodes.length - 1;
  };
  const addVersion = (node: number, layer: number, inode: number, a: Attrs, why: Cause) => {
    const was = current.get(node) ?? -1;
    const diff = a.diff ?? (inode < 0 ? DiffType.Deleted : was >= 0 ? DiffType.Modified : DiffType.Added);
    versions[node].push({ node, layer, diff, inode, why });
    current.set(node, inode);
  };

  layers.forEach((ops, layer) => {
    for (const op of ops) {
      const node = nodeFor(op.path, layer);
      if (op.op === 'delete') addVersion(node, layer, -1, op.attrs, Cause.Whiteout);
      else if (op.op === 'hardlink') {
        const target = byPath.get(clean(op.target));
        const ino = target === undefined ? -1 : current.get(target) ?? -1;
        if (ino < 0) throw new Error(`hardlink target missing: ${op.target}`);
        addVersion(node, layer, ino, op.attrs, Cause.Hardlink);
      } else addVersion(node, layer, newInode(node, op, layer), op.attrs, Cause.Entry);
    }
  });
  return { tree: encode(layers.length, names, parents, versions, inodes), streams };
}

function encode(layerCount: number, names: string[], parents: number[], versions: { layer: number; diff: DiffType; inode: number; why: Cause }[][], inodes: Inode[]): EncodedTree {
  const enc = new TextEncoder();
  const nameChunks = names.map((n) => enc.encode(n));
  const nameOffsets = new Uint32Array(names.length + 1);
  nameChunks.forEach((c, i) => { nameOffsets[i + 1] = nameOffsets[i] + c.length; });
  const nameBytes = new Uint8Array(nameOffsets[names.length]);
  nameChunks.forEach((c, i) => nameBytes.set(c, nameOffsets[i]));
  const verStart = new Uint32Array(names.length + 1);
  versions.forEach((vs, i) => { verStart[i + 1] = verStart[i] + vs.length; });
  const nv = verStart[names.length];
  const vLayer = new Uint16Array(nv), vDiff = new Uint8Array(nv), vInode = new Int32Array(nv), vWhy = new Uint8Array(nv);
  versions.flat().forEach((v, i) => { vLayer[i] = v.layer; vDiff[i] = v.diff; vInode[i] = v.inode; vWhy[i] = v.why; });
  const links = inodes.map((i) => (i.link === null ? null : enc.encode(i.link)));
  const linkList = links.filter((l) => l !== null);
  const linkOffsets = new Uint32Array(linkList.length + 1);
  linkList.forEach((l, i) => { linkOffsets[i + 1] = linkOffsets[i] + l.length; });
  const linkBytes = new Uint8Array(linkOffsets[linkList.length]);
  linkList.forEach((l, i) => linkBytes.set(l, linkOffsets[i]));
  let li = 0;
  const xattrs: EncodedTree['xattrs'] = [];
  inodes.forEach((i, n) => {
    for (const [name, value] of Object.entries(i.xattrs ?? {})) xattrs.push({ inode: n, name, value: enc.encode(value) });
  });
  return {
    layerCount, nodeCount: names.length,
    parent: Int32Array.from(parents), nameBytes, nameOffsets, verStart, vLayer, vDiff, vInode, vWhy,
    iType: Uint8Array.from(inodes, (i) => i.type), iMode: Uint32Array.from(inodes, (i) => i.mode),
    iUid: Uint32Array.from(inodes, (i) => i.uid), iGid: Uint32Array.from(inodes, (i) => i.gid),
    iSize: Float64Array.from(inodes, (i) => i.size), iMtime: Float64Array.from(inodes, (i) => i.mtime),
    iLayer: Int16Array.from(inodes, (i) => i.layer), iOffset: Float64Array.from(inodes, (i) => i.offset),
    iDevMajor: Uint32Array.from(inodes, (i) => i.dev[0]), iDevMinor: Uint32Array.from(inodes, (i) => i.dev[1]),
    iLink: Int32Array.from(links, (l) => (l === null ? -1 : li++)), iNode: Int32Array.from(inodes, (i) => i.node),
    linkBytes, linkOffsets, xattrs, deadWhiteouts: [],
  };
}
