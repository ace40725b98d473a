// A layer's tar entries as columns for the trip from a decode worker to the thread that merges
// (the browser's coordinator, the CLI's main thread): names in one string array, numbers in one
// transferred Float64Array. Structured clone of 100k entry objects (14 properties each) cost more
// than the decoding around it, and held ~3 KB an entry in the worker (the CLI's peak memory).
import type { EntryKind, TarEntry } from '../tar/reader.ts';

const KINDS: EntryKind[] = ['file', 'hardlink', 'symlink', 'char', 'block', 'dir', 'fifo', 'other'];
const KIND_INDEX = new Map(KINDS.map((k, i) => [k, i]));
/** numeric fields per entry, in this order */
const NUMS = 9;

export interface EntryColumns {
  count: number;
  names: string[];
  /** non-empty link names only: entry index → name */
  links: Map<number, string>;
  /** per entry: kind index, typeflag char code */
  kinds: Uint8Array<ArrayBuffer>;
  typeflags: Uint8Array<ArrayBuffer>;
  /** per entry: mode, uid, gid, size, mtime, devmajor, devminor, headerOffset, dataOffset */
  nums: Float64Array<ArrayBuffer>;
  xattrs: Map<number, Record<string, Uint8Array>>;
}

/** Collects entries as they are parsed (so the worker never holds them as objects). */
export class EntryPacker {
  private n = 0;
  private names: string[] = [];
  private links = new Map<number, string>();
  private kinds = new Uint8Array(1024);
  private typeflags = new Uint8Array(1024);
  private nums = new Float64Array(1024 * NUMS);
  private xattrs = new Map<number, Record<string, Uint8Array>>();

  add(e: TarEntry): void {
    const i = this.n++;
    if (i === this.kinds.length) this.grow();
    this.names.push(e.name);
    if (e.linkname) this.links.set(i, e.linkname);
    if (e.xattrs) this.xattrs.set(i, e.xattrs);
    this.kinds[i] = KIND_INDEX.get(e.kind) ?? KINDS.length - 1;
    this.typeflags[i] = e.typeflag.charCodeAt(0);
    const o = i * NUMS;
    const v = this.nums;
    v[o] = e.mode; v[o + 1] = e.uid; v[o + 2] = e.gid; v[o + 3] = e.size; v[o + 4] = e.mtime;
    v[o + 5] = e.devmajor; v[o + 6] = e.devminor; v[o + 7] = e.headerOffset; v[o + 8] = e.dataOffset;
  }

  private grow(): void {
    const cap = this.kinds.length * 2;
    const k = new Uint8Array(cap); k.set(this.kinds); this.kinds = k;
    const t = new Uint8Array(cap); t.set(this.typeflags); this.typeflags = t;
    const v = new Float64Array(cap * NUMS); v.set(this.nums); this.nums = v;
  }

  /** the columns, trimmed, and the buffers to transfer with them */
  finish(): { columns: EntryColumns; transfer: ArrayBuffer[] } {
    const n = this.n;
    const columns: EntryColumns = {
      count: n, names: this.names, links: this.links, xattrs: this.xattrs,
      kinds: this.kinds.slice(0, n), typeflags: this.typeflags.slice(0, n), nums: this.nums.slice(0, n * NUMS),
    };
    return { columns, transfer: columnBuffers(columns) };
  }
}

/** The buffers to transfer when the columns move on to another thread. */
export const columnBuffers = (c: EntryColumns): ArrayBuffer[] => [c.kinds.buffer, c.typeflags.buffer, c.nums.buffer];

/** The entries again, as the tar reader made them. */
export function unpackEntries(c: EntryColumns): TarEntry[] {
  const out = new Array<TarEntry>(c.count);
  const v = c.nums;
  for (let i = 0; i < c.count; i++) {
    const o = i * NUMS;
    out[i] = {
      name: c.names[i], kind: KINDS[c.kinds[i]], typeflag: String.fromCharCode(c.typeflags[i]),
      mode: v[o], uid: v[o + 1], gid: v[o + 2], size: v[o + 3], mtime: v[o + 4],
      linkname: c.links.get(i) ?? '', devmajor: v[o + 5], devminor: v[o + 6], xattrs: c.xattrs.get(i) ?? null,
      headerOffset: v[o + 7], dataOffset: v[o + 8],
    };
  }
  return out;
}
