// A read-only reader for SQLite database files (file format 3), enough to list a table's rows:
// the header, table b-trees (interior and leaf pages), overflow chains and the record format.
// Only the main file is read; changes still in a -wal file are not seen.
import { CatalogError } from './types.ts';

const MAGIC = 'SQLite format 3\u0000';
const LEAF_TABLE = 13;
const INTERIOR_TABLE = 5;
const LEAF_INDEX = 10;
const INTERIOR_INDEX = 2;

export type SqlValue = null | number | bigint | string | Uint8Array;

export interface SqliteRow {
  rowid: number;
  values: SqlValue[];
}

export interface SqliteTable {
  name: string;
  rootPage: number;
  sql: string | null;
}

/** What the reader reports a file to be, from its 100-byte header. */
export interface SqliteHeader {
  pageSize: number;
  /** usable bytes per page: page size less the reserved space at each page's end */
  usableSize: number;
  pageCount: number;
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
  /** 2 when the database is in WAL mode (then a -wal file may hold newer pages) */
  readVersion: number;
}

export class SqliteReader {
  readonly header: SqliteHeader;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly what: string;
  private readonly text: TextDecoder;

  /** `what` names the file in error messages, e.g. "rpm database". */
  constructor(bytes: Uint8Array, what = 'sqlite database') {
    this.bytes = bytes;
    this.what = what;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.header = this.readHeader();
    this.text = new TextDecoder(this.header.encoding);
  }

  private fail(msg: string): never {
    throw new CatalogError(`${this.what}: ${msg}`);
  }

  private readHeader(): SqliteHeader {
    const b = this.bytes;
    if (b.length < 100) this.fail(`only ${b.length} bytes, shorter than the 100-byte SQLite header; the file is truncated`);
    for (let i = 0; i < 16; i++) {
      if (b[i] !== MAGIC.charCodeAt(i)) this.fail('no "SQLite format 3" magic at the start; not an SQLite database (or encrypted)');
    }
    const raw = this.view.getUint16(16);
    const pageSize = raw === 1 ? 65536 : raw;
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) this.fail(`header gives page size ${raw}, not a power of two from 512 to 65536`);
    const reserved = b[20];
    const usableSize = pageSize - reserved;
    if (usableSize < 480) this.fail(`header reserves ${reserved} bytes per page, leaving fewer than 480 usable`);
    if (b[21] !== 64 || b[22] !== 32 || b[23] !== 32) this.fail('header payload fractions are not 64/32/32; the header is corrupt');
    const readVersion = b[19];
    if (readVersion !== 1 && readVersion !== 2) this.fail(`header read version ${readVersion} is not 1 (legacy) or 2 (WAL)`);
    const enc = this.view.getUint32(56);
    const encoding = enc === 2 ? 'utf-16le' : enc === 3 ? 'utf-16be' : enc === 1 || enc === 0 ? 'utf-8' : this.fail(`header gives text encoding ${enc}, not 1, 2 or 3`);
    const inHeader = this.view.getUint32(28);
    const valid = inHeader > 0 && this.view.getUint32(24) === this.view.getUint32(92);
    // the in-header size is only trusted when written by SQLite ≥ 3.7.0 (the two counters agree)
    const pageCount = valid ? inHeader : Math.floor(b.length / pageSize);
    return { pageSize, usableSize, pageCount, encoding, readVersion };
  }

  /** The byte offset of page `n` (1-based), checked against the file's length. */
  private pageOffset(n: number, from: string): number {
    if (!Number.isInteger(n) || n < 1 || n > this.header.pageCount) this.fail(`${from} points to page ${n}, outside pages 1–${this.header.pageCount}`);
    const off = (n - 1) * this.header.pageSize;
    if (off + this.header.pageSize > this.bytes.length) {
      this.fail(`page ${n} lies past the end of the file (${this.bytes.length} bytes); the file is truncated`);
    }
    return off;
  }

  /** Tables and their root pages, from the schema table on page 1. */
  tables(): SqliteTable[] {
    const out: SqliteTable[] = [];
    for (const row of this.rows(1)) {
      const [type, name, , root, sql] = row.values;
      if (type !== 'table' || typeof name !== 'string') continue;
      out.push({ name, rootPage: Number(root), sql: typeof sql === 'string' ? sql : null });
    }
    return out;
  }

  /** Every row of the table b-tree rooted at `rootPage`, in rowid order. */
  *rows(rootPage: number): Generator<SqliteRow> {
    const visited = new Set<number>();
    const stack: number[] = [rootPage];
    while (stack.length > 0) {
      const page = stack.pop()!;
      if (visited.has(page)) this.fail(`page ${page} is reached twice in one b-tree; the file is corrupt`);
      visited.add(page);
      const base = this.pageOffset(page, page === rootPage ? 'a table root' : 'a b-tree interior cell');
      const hdr = page === 1 ? base + 100 : base;
      const type = this.bytes[hdr];
      const cells = this.view.getUint16(hdr + 3);
      if (type === INTERIOR_TABLE) {
        const children: number[] = [];
        const ptrs = hdr + 12;
        this.checkCellArray(page, base, ptrs, cells);
        for (let i = 0; i < cells; i++) {
          const cell = base + this.cellOffset(page, ptrs, i, 4);
          children.push(this.view.getUint32(cell));
        }
        children.push(this.view.getUint32(hdr + 8));
        // a stack: push right-most first so rows come out in rowid order
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
      } else if (type === LEAF_TABLE) {
        const ptrs = hdr + 8;
        this.checkCellArray(page, base, ptrs, cells);
        for (let i = 0; i < cells; i++) yield this.leafCell(page, base, base + this.cellOffset(page, ptrs, i));
      } else if (type === LEAF_INDEX || type === INTERIOR_INDEX) {
        this.fail(`page ${page} is an index b-tree page where a table b-tree page was expected; the file is corrupt`);
      } else {
        this.fail(`page ${page} has page type 0x${type.toString(16).padStart(2, '0')}, not a b-tree page; the file is corrupt or truncated`);
      }
    }
  }

  private checkCellArray(page: number, base: number, ptrs: number, cells: number): void {
    if (ptrs + cells * 2 > base + this.header.usableSize) this.fail(`page ${page} claims ${cells} cells, more than fit in a page`);
  }

  /** Offset in the page of cell `i`, with at least `need` bytes of the cell inside the page. */
  private cellOffset(page: number, ptrs: number, i: number, need = 1): number {
    const off = this.view.getUint16(ptrs + i * 2);
    if (off < 8 || off + need > this.header.usableSize) this.fail(`page ${page} cell ${i} starts at offset ${off}, outside the page`);
    return off;
  }

  private leafCell(page: number, base: number, pos: number): SqliteRow {
    const pageEnd = base + this.header.usableSize;
    const [payloadSize, p1] = this.varint(pos, pageEnd, page);
    const [rowid, p2] = this.varint(p1, pageEnd, page);
    const payload = this.payload(page, p2, payloadSize, pageEnd);
    return { rowid: Number(rowid), values: this.record(payload, page, rowid) };
  }

  /** A cell's payload: in place when it fits the page, else gathered from its overflow chain. */
  private payload(page: number, start: number, size: number, pageEnd: number): Uint8Array {
    const u = this.header.usableSize;
    const x = u - 35;
    if (size <= x) {
      if (start + size > pageEnd) this.fail(`page ${page} has a cell whose payload runs past the page end`);
      return this.bytes.subarray(start, start + size);
    }
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((size - m) % (u - 4));
    const local = k <= x ? k : m;
    if (start + local + 4 > pageEnd) this.fail(`page ${page} has a cell whose payload runs past the page end`);
    if (size > 1 << 30) this.fail(`page ${page} has a cell claiming a ${size}-byte payload; the file is corrupt`);
    const out = new Uint8Array(size);
    out.set(this.bytes.subarray(start, start + local), 0);
    let filled = local;
    let next = this.view.getUint32(start + local);
    while (filled < size) {
      if (next === 0) this.fail(`the overflow chain of a cell on page ${page} ends after ${filled} of ${size} bytes; the file is corrupt`);
      const off = this.pageOffset(next, `an overflow chain from page ${page}`);
      const n = Math.min(u - 4, size - filled);
      out.set(this.bytes.subarray(off + 4, off + 4 + n), filled);
      filled += n;
      next = this.view.getUint32(off);
    }
    return out;
  }

  /** A varint (1–9 bytes, big-endian 7-bit groups; the 9th byte gives 8 bits). */
  private varint(pos: number, end: number, page: number): [number, number] {
    let v = 0;
    for (let i = 0; i < 9; i++) {
      if (pos + i >= end) this.fail(`page ${page} has a varint that runs past the end of its data`);
      const byte = this.bytes[pos + i];
      if (i === 8) return [v * 256 + byte, pos + 9];
      v = v * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) return [v, pos + i + 1];
    }
    return [v, pos + 9];
  }

  /** The column values of one record (header of serial types, then the values). */
  private record(p: Uint8Array, page: number, rowid: number): SqlValue[] {
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const bad = (msg: string): never => this.fail(`row ${rowid} (page ${page}): ${msg}`);
    const varint = (pos: number, end: number): [number, number] => {
      let v = 0;
      for (let i = 0; i < 9; i++) {
        if (pos + i >= end) bad('record header runs past its end');
        const byte = p[pos + i];
        if (i === 8) return [v * 256 + byte, pos + 9];
        v = v * 128 + (byte & 0x7f);
        if ((byte & 0x80) === 0) return [v, pos + i + 1];
      }
      return [v, pos + 9];
    };
    const [headerSize, h0] = varint(0, p.length);
    if (headerSize > p.length || headerSize < h0) bad(`record header size ${headerSize} does not fit the ${p.length}-byte record`);
    const values: SqlValue[] = [];
    let h = h0;
    let body = headerSize;
    while (h < headerSize) {
      const [t, next] = varint(h, headerSize);
      h = next;
      const len = serialLength(t);
      if (len < 0) bad(`serial type ${t} is reserved`);
      if (body + len > p.length) bad(`a value runs past the end of the record (serial type ${t})`);
      values.push(this.value(t, p, dv, body, len));
      body += len;
    }
    return values;
  }

  private value(t: number, p: Uint8Array, dv: DataView, at: number, len: number): SqlValue {
    switch (t) {
      case 0: return null;
      case 1: return dv.getInt8(at);
      case 2: return dv.getInt16(at);
      case 3: return (dv.getInt8(at) << 16) | dv.getUint16(at + 1);
      case 4: return dv.getInt32(at);
      case 5: return dv.getInt16(at) * 2 ** 32 + dv.getUint32(at + 2);
      case 6: {
        const v = dv.getBigInt64(at);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 7: return dv.getFloat64(at);
      case 8: return 0;
      case 9: return 1;
      default:
        return t % 2 === 0 ? p.subarray(at, at + len) : this.text.decode(p.subarray(at, at + len));
    }
  }

  /** The rows of the named table (case-insensitive, as SQL names are). */
  tableRows(name: string): Generator<SqliteRow> {
    const lower = name.toLowerCase();
    const table = this.tables().find((t) => t.name.toLowerCase() === lower);
    if (!table) this.fail(`has no table named ${name}`);
    return this.rows(table.rootPage);
  }
}

/** Bytes a value of serial type `t` occupies; -1 for the reserved types 10 and 11. */
function serialLength(t: number): number {
  if (t >= 12) return Math.floor((t - 12) / 2);
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1][t];
}
