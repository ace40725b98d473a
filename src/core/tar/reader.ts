// Streaming tar reader: push chunks of any size, get entries (PAX x/g, GNU L/K, ustar prefix,
// base-256, verified checksums). Data is handed out as subarray views; headers are only copied
// when they span chunks. Stops at the first zero block (end of archive; eStargz TOC follows it).
import { quoted, StrataError } from '../errors.ts';
import { BLOCK, checksumOk, decodeHeader, describeMagic, isZeroBlock, type RawHeader } from './header.ts';
import { parsePax, type PaxRecords } from './pax.ts';

export type EntryKind = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface TarEntry {
  /** name as stored (after PAX / GNU long names), not cleaned */
  name: string;
  kind: EntryKind;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Uint8Array> | null;
  /** offset of the entry's first header (incl. PAX/GNU meta headers) in the stream */
  headerOffset: number;
  /** offset of the entry's content in the stream */
  dataOffset: number;
}

export interface TarHandler {
  /** `false` declines the entry's content: `data` is not called for it and it may be skipped */
  entry(e: TarEntry): void | boolean;
  /** content of the last entry, as views valid only during the call */
  data?(chunk: Uint8Array): void;
}

const META_LIMIT = 64 << 20; // PAX / long-name records larger than this are not sane

const KIND: Record<string, EntryKind> = {
  '0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};
/** header-only types: any size field is ignored (as Go's archive/tar does) */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

const enum State { Header, Data, Meta, Padding, End }

export class TarReader {
  /** bytes pushed so far = offset in the stream */
  offset = 0;
  private state = State.Header;
  private hdr = new Uint8Array(BLOCK);
  private hdrFill = 0;
  private remaining = 0;       // of data / meta / padding
  private padAfter = 0;
  private meta: Uint8Array | null = null;
  private metaFill = 0;
  private metaType = '';
  private pending: { pax?: PaxRecords; longName?: string; longLink?: string; start: number } | null = null;
  private global: PaxRecords | null = null;
  private entries = 0;
  /** whether `data` takes the current entry's content */
  private wantData = true;
  private readonly what: string;

  constructor(private readonly handler: TarHandler, what = 'tar stream') {
    this.what = what;
  }

  /** true once the end-of-archive marker was read; later input is ignored */
  get ended(): boolean { return this.state === State.End; }

  push(chunk: Uint8Array): void {
    let p = 0;
    const n = chunk.length;
    while (p < n && this.state !== State.End) {
      switch (this.state) {
        case State.Header: {
          let block: Uint8Array;
          let at: number;
          if (this.hdrFill === 0 && n - p >= BLOCK) {
            block = chunk; at = p; p += BLOCK;
          } else {
            const take = Math.min(BLOCK - this.hdrFill, n - p);
            this.hdr.set(chunk.subarray(p, p + take), this.hdrFill);
            this.hdrFill += take; p += take;
            if (this.hdrFill < BLOCK) continue;
            this.hdrFill = 0;
            block = this.hdr; at = 0;
          }
          const blockOffset = this.offset + p - BLOCK;
          this.onHeader(block, at, blockOffset);
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, n - p);
          if (this.wantData && this.handler.data && take > 0) this.handler.data(chunk.subarray(p, p + take));
          p += take; this.remaining -= take;
          if (this.remaining === 0) this.toPadding();
          break;
        }
        case State.Meta: {
          const take = Math.min(this.remaining, n - p);
          this.meta!.set(chunk.subarray(p, p + take), this.metaFill);
          this.metaFill += take; p += take; this.remaining -= take;
          if (this.remaining === 0) { this.onMeta(); this.toPadding(); }
          break;
        }
        case State.Padding: {
          const take = Math.min(this.remaining, n - p);
          p += take; this.remaining -= take;
          if (this.remaining === 0) this.state = State.Header;
          break;
        }
      }
    }
    this.offset += n;
  }

  /** Data + padding bytes left in the current entry that a caller without a data handler may skip. */
  skippable(): number {
    if (this.handler.data && this.wantData) return 0;
    if (this.state === State.Data) return this.remaining + this.padAfter;
    if (this.state === State.Padding) return this.remaining;
    return 0;
  }

  /** Advance over `n` bytes (<= skippable()) without reading them: random-access indexing. */
  skip(n: number): void {
    if (n > this.skippable()) throw new Error('TarReader.skip past the current entry');
    this.offset += n;
    if (this.state === State.Data) {
      const d = Math.min(n, this.remaining);
      this.remaining -= d; n -= d;
      if (this.remaining === 0) this.toPadding();
    }
    if (n > 0 && this.state === State.Padding) {
      this.remaining -= n;
      if (this.remaining === 0) this.state = State.Header;
    }
  }

  /** The input is complete. Throws if it stopped inside a header or an entry. */
  finish(): void {
    if (this.state === State.End) return;
    if (this.state === State.Header && this.hdrFill === 0 && !this.pending) return; // no EOF marker: tolerated
    throw new StrataError('TAR_TRUNCATED',
      `${this.what} is truncated: it ends at byte ${this.offset} inside ${this.state === State.Header ? 'a header' : 'an entry'} (${this.entries} entries read). The file was probably cut short while copying or downloading.`);
  }

  private toPadding(): void {
    this.remaining = this.padAfter;
    this.state = this.remaining ? State.Padding : State.Header;
  }

  private onHeader(b: Uint8Array, at: number, blockOffset: number): void {
    if (isZeroBlock(b, at)) {
      if (this.pending) throw new StrataError('TAR_BAD_HEADER', `${this.what}: archive ends right after an extended header at byte ${blockOffset}`);
      this.state = State.End;
      return;
    }
    if (!checksumOk(b, at)) {
      const first = this.entries === 0 && !this.pending;
      const magic = first ? describeMagic(b.subarray(at, at + 16)) : null;
      const hint = magic
        ? ` It looks like ${magic}.`
        : first ? ' Maybe it is not a tar archive, or it needs to be decompressed first.' : ' The tar is probably corrupted.';
      throw new StrataError('TAR_CHECKSUM', `Invalid tar header (checksum mismatch) at byte ${blockOffset} of ${this.what}.${hint}`);
    }
    let h: RawHeader;
    try {
      h = decodeHeader(b, at);
    } catch (e) {
      // header.ts knows the field, not the stream: say which archive and where
      const why = e instanceof Error ? e.message : String(e);
      throw new StrataError('TAR_BAD_HEADER', `Invalid tar header at byte ${blockOffset} of ${this.what}: ${why}. The tar is probably corrupted.`, { cause: e });
    }
    const start = this.pending ? this.pending.start : blockOffset;
    const tf = h.typeflag;
    if (tf === 'x' || tf === 'g' || tf === 'L' || tf === 'K') {
      if (h.size > META_LIMIT) throw new StrataError('TAR_BAD_HEADER', `${this.what}: extended header of ${h.size} bytes at byte ${blockOffset} is implausibly large`);
      this.pending ??= { start };
      this.metaType = tf;
      this.meta = new Uint8Array(h.size);
      this.metaFill = 0;
      this.remaining = h.size;
      this.padAfter = (BLOCK - (h.size % BLOCK)) % BLOCK;
      this.state = h.size ? State.Meta : State.Header;
      if (!h.size) this.onMeta();
      return;
    }
    if (tf === 'S' || tf === 'M') {
      throw new StrataError('TAR_UNSUPPORTED', `${this.what}: entry ${quoted(h.name)} is a GNU ${tf === 'S' ? 'sparse file' : 'multi-volume continuation'}, which is not supported`);
    }
    const pend = this.pending;
    this.pending = null;
    const pax = pend?.pax;
    const g = this.global;
    let name = h.name;
    let linkname = h.linkname;
    if (pend?.longName !== undefined) name = pend.longName;
    if (pend?.longLink !== undefined) linkname = pend.longLink;
    let { mode, uid, gid, size, mtime } = h;
    let { devmajor, devminor } = h;
    let xattrs: Record<string, Uint8Array> | null = null;
    for (const rec of [g, pax]) {
      if (!rec) continue;
      if (rec.path !== undefined && rec === pax) name = rec.path;
      if (rec.linkpath !== undefined && rec === pax) linkname = rec.linkpath;
      if (rec.uid !== undefined) uid = rec.uid;
      if (rec.gid !== undefined) gid = rec.gid;
      if (rec.size !== undefined) size = rec.size;
      if (rec.mtime !== undefined) mtime = rec.mtime;
      if (rec.devmajor !== undefined) devmajor = rec.devmajor;
      if (rec.devminor !== undefined) devminor = rec.devminor;
      if (rec.sparse) throw new StrataError('TAR_UNSUPPORTED', `${this.what}: entry ${quoted(name)} is a PAX sparse file, which is not supported`);
      if (rec.xattrs) xattrs = { ...(xattrs ?? {}), ...rec.xattrs };
    }
    let kind: EntryKind = KIND[tf] ?? 'other';
    if (tf === 'D') kind = 'dir'; // GNU dumpdir: a directory whose data lists its contents
    if (kind === 'file' && tf === '0' && !h.ustar && name.endsWith('/')) kind = 'dir'; // v7 directory
    if (NO_DATA.has(tf)) size = 0;
    const dataOffset = blockOffset + BLOCK;
    this.entries++;
    this.wantData = this.handler.entry({
      name, kind, typeflag: tf, mode: mode & 0o7777, uid, gid, size, mtime, linkname, devmajor, devminor, xattrs,
      headerOffset: start, dataOffset,
    }) !== false;
    this.remaining = size;
    this.padAfter = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = size ? State.Data : State.Header;
  }

  private onMeta(): void {
    const data = this.meta!;
    this.meta = null;
    const pend = this.pending!;
    if (this.metaType === 'x') pend.pax = { ...(pend.pax ?? {}), ...parsePax(data, this.what) };
    else if (this.metaType === 'g') { this.global = { ...(this.global ?? {}), ...parsePax(data, this.what) }; this.pending = null; }
    else {
      let end = data.indexOf(0);
      if (end < 0) end = data.length;
      const s = new TextDecoder().decode(data.subarray(0, end));
      if (this.metaType === 'L') pend.longName = s; else pend.longLink = s;
    }
  }
}
