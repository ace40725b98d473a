// Synthetic images for the storage tests and benchmark: a deterministic ImageMeta, an EncodedTree
// of any size, and patterned bytes whose value at each offset is known.
import type { EncodedTree, ImageMeta } from '../../src/core/model.ts';

export function makeMeta(name = 'example:1.0', layerCount = 3): ImageMeta {
  return {
    source: { name: `${name}.tar`, size: 1234 },
    format: 'docker-save',
    image: { index: 0, name, tags: [name], platform: { os: 'linux', architecture: 'amd64' }, layerCount },
    config: {
      os: 'linux', architecture: 'amd64', env: ['PATH=/usr/bin'], entrypoint: null, cmd: ['sh'],
      exposedPorts: [], volumes: [], labels: { a: 'b' },
    },
    history: [{ createdBy: 'ADD rootfs', emptyLayer: false, layer: 0 }],
    layers: Array.from({ length: layerCount }, (_, i) => ({
      index: i, digest: `sha256:${String(i).padStart(64, '0')}`, mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
      compression: 'none' as const, compressedSize: 1000 + i, member: `${i}/layer.tar`, createdBy: `RUN step ${i}`,
      verify: { state: 'pending' as const },
    })),
    rawConfig: '{"architecture":"amd64"}',
  };
}

/** Small deterministic PRNG (mulberry32) so trees are equal run to run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A tree of `nodeCount` nodes: one version and one inode per node, names like "f12345". */
export function makeTree(nodeCount: number, layerCount = 3): EncodedTree {
  const r = rng(nodeCount);
  const enc = new TextEncoder();
  const names = Array.from({ length: nodeCount }, (_, i) => enc.encode(i === 0 ? '' : `f${i}`));
  const nameOffsets = new Uint32Array(nodeCount + 1);
  names.forEach((n, i) => (nameOffsets[i + 1] = nameOffsets[i] + n.length));
  const nameBytes = new Uint8Array(nameOffsets[nodeCount]);
  names.forEach((n, i) => nameBytes.set(n, nameOffsets[i]));
  const fill = <T extends { [i: number]: number }>(a: T, f: (i: number) => number): T => {
    for (let i = 0; i < nodeCount; i++) a[i] = f(i);
    return a;
  };
  const n = nodeCount;
  return {
    layerCount, nodeCount,
    parent: fill(new Int32Array(n), (i) => (i === 0 ? -1 : Math.floor(r() * i))),
    nameBytes, nameOffsets,
    verStart: Uint32Array.from({ length: n + 1 }, (_, i) => i),
    vLayer: fill(new Uint16Array(n), () => Math.floor(r() * layerCount)),
    vDiff: fill(new Uint8Array(n), () => 1 + Math.floor(r() * 3)),
    vInode: fill(new Int32Array(n), (i) => i),
    vWhy: new Uint8Array(n),
    iType: fill(new Uint8Array(n), (i) => (i === 0 ? 1 : Math.floor(r() * 3))),
    iMode: fill(new Uint32Array(n), () => 0o644),
    iUid: fill(new Uint32Array(n), () => Math.floor(r() * 1000)),
    iGid: fill(new Uint32Array(n), () => Math.floor(r() * 1000)),
    iSize: fill(new Float64Array(n), () => Math.floor(r() * 1e6)),
    iMtime: fill(new Float64Array(n), () => 1.7e9 + r()),
    iLayer: fill(new Int16Array(n), () => Math.floor(r() * layerCount)),
    iOffset: fill(new Float64Array(n), (i) => i * 512),
    iDevMajor: new Uint32Array(n), iDevMinor: new Uint32Array(n),
    iLink: fill(new Int32Array(n), () => -1),
    iNode: fill(new Int32Array(n), (i) => i),
    linkBytes: enc.encode('/bin/busybox'), linkOffsets: Uint32Array.of(0, 12),
    xattrs: [{ inode: 1, name: 'security.capability', value: Uint8Array.of(1, 2, 3) }],
    deadWhiteouts: [],
  };
}

/** Bytes whose value at stream offset `o` is (o * 31 + seed) & 255. */
export function pattern(offset: number, length: number, seed = 7): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = ((offset + i) * 31 + seed) & 255;
  return b;
}

/**
 * Where two byte arrays first differ (-1 if equal, the shorter length if one is a prefix).
 * Vitest's toEqual walks large typed arrays element by element and takes seconds per MiB.
 */
export function firstDiff(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
  return x.length === y.length ? -1 : n;
}
