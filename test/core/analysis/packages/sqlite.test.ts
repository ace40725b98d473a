// The SQLite reader against databases written by the real SQLite library (Python's sqlite3):
// page sizes, text encodings, every serial type, overflow chains, deep b-trees, WAL mode, freed
// pages; then every way a damaged file must fail.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SqliteReader, type SqlValue } from '../../../../src/core/analysis/packages/sqlite.ts';
import { expectCatalogError, has, run } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Writes a database with the given settings and prints every row of table t as JSON, each value
// tagged with its type, so both sides can be compared exactly.
const MAKE = `
import sqlite3, json, sys, random
path, page_size, encoding, journal, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
db = sqlite3.connect(path)
db.execute(f'PRAGMA page_size = {page_size}')
db.execute(f'PRAGMA encoding = "{encoding}"')
db.execute(f'PRAGMA journal_mode = {journal}')
db.execute('CREATE TABLE other (x TEXT)')
db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c)')
db.execute('CREATE INDEX t_a ON t (a)')
rnd = random.Random(7)
ints = [0, 1, -1, 127, -128, 128, 32767, -32768, 32768, 2**23 - 1, -2**23, 2**23, 2**31 - 1, -2**31, 2**31,
        2**47 - 1, -2**47, 2**47, 2**53, 2**53 + 1, 2**63 - 1, -2**63]
for i in range(rows):
    k = i % 7
    if k == 0: a = ints[i % len(ints)]
    elif k == 1: a = rnd.random() * 10**rnd.randint(-5, 20)
    elif k == 2: a = None
    elif k == 3: a = 'text ünïcödé ✓ ' * rnd.randint(0, 40)
    else: a = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 1, 100, page_size - 40, page_size - 30, page_size, 3 * page_size + 17, 70000])))
    db.execute('INSERT INTO t (a, b, c) VALUES (?, ?, ?)', (a, i, 'row %d' % i))
db.execute('DELETE FROM t WHERE id % 11 = 0')
db.execute('INSERT INTO other VALUES (?)', ('x' * 5000,))
db.commit()
def tag(v):
    if v is None: return ['null']
    if isinstance(v, int): return ['int', str(v)]
    if isinstance(v, float): return ['real', repr(v)]
    if isinstance(v, str): return ['text', v]
    return ['blob', v.hex()]
out = [[r[0], [tag(x) for x in r]] for r in db.execute('SELECT rowid, id, a, b, c FROM t ORDER BY rowid')]
db.close()
json.dump(out, sys.stdout)
`;

/** One value as comparable text: numbers by value (JS cannot tell 1.0 from 1), big integers exactly. */
function canon(v: SqlValue): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `big:${v}`;
  if (typeof v === 'number') return `num:${v}`;
  if (typeof v === 'string') return `text:${v}`;
  return `blob:${Buffer.from(v).toString('hex')}`;
}

function canonPython(t: string[]): string {
  if (t[0] === 'null') return 'null';
  if (t[0] === 'int') return Math.abs(Number(t[1])) > Number.MAX_SAFE_INTEGER ? `big:${t[1]}` : `num:${Number(t[1])}`;
  if (t[0] === 'real') return `num:${Number(t[1])}`;
  return `${t[0]}:${t[1]}`;
}

const python = has('python3');

describe.skipIf(!python)('databases written by SQLite itself', () => {
  test.each([
    [512, 'UTF-8', 'DELETE', 400],
    [1024, 'UTF-16le', 'DELETE', 300],
    [4096, 'UTF-8', 'WAL', 600],
    [4096, 'UTF-16be', 'DELETE', 200],
    [65536, 'UTF-8', 'DELETE', 300],
  ])('page size %i, %s, journal %s, %i rows', (pageSize, encoding, journal, rows) => {
    const path = join(dir, `db-${pageSize}-${encoding}-${journal}.sqlite`);
    const want = JSON.parse(run('python3', ['-c', MAKE, path, String(pageSize), encoding, journal, String(rows)])) as [number, string[][]][];
    const db = new SqliteReader(new Uint8Array(readFileSync(path)));
    expect(db.header.pageSize).toBe(pageSize);
    expect(db.header.readVersion).toBe(journal === 'WAL' ? 2 : 1);
    expect(db.tables().map((t) => t.name)).toEqual(['other', 't']);
    // the rowid alias column is stored as NULL; SQLite reads it from the rowid
    const got = [...db.tableRows('T')].map((r) => [r.rowid, r.rowid, ...r.values.slice(1)].map((v) => canon(v as SqlValue)).join(' | '));
    const expected = want.map(([, vals]) => vals.map(canonPython).join(' | '));
    expect(got.length).toBe(expected.length);
    const firstDiff = got.findIndex((g, i) => g !== expected[i]);
    expect(firstDiff, firstDiff >= 0 ? `row ${firstDiff}: ${got[firstDiff].slice(0, 200)} ≠ ${expected[firstDiff].slice(0, 200)}` : '').toBe(-1);
  });
});

/** A database whose table t spans an interior root page and several leaves, for the damage cases. */
function sample(): { bytes: Uint8Array; db: SqliteReader; root: number } {
  const path = join(dir, 'sample.sqlite');
  rmSync(path, { force: true });
  run('python3', ['-c', MAKE, path, '1024', 'UTF-8', 'DELETE', '120']);
  const bytes = new Uint8Array(readFileSync(path));
  const db = new SqliteReader(bytes);
  return { bytes, db, root: db.tables().find((t) => t.name === 't')!.rootPage };
}

describe.skipIf(!python)('damaged files end in a CatalogError naming the problem', () => {
  // a skipped describe still runs its body: the sample needs python
  const { bytes, root } = python ? sample() : { bytes: new Uint8Array(1024 * 8), root: 2 };
  const pageSize = 1024;
  const at = (page: number) => (page - 1) * pageSize;
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const firstChild = dv.getUint32(at(root) + dv.getUint16(at(root) + 12));
  const mutate = (fn: (b: Uint8Array, v: DataView) => void) => {
    const b = bytes.slice();
    fn(b, new DataView(b.buffer));
    return b;
  };
  const rows = (b: Uint8Array) => [...new SqliteReader(b).tableRows('t')];

  test('the sample has an interior root page, so the cases below reach what they damage', () => {
    expect(bytes[at(root)]).toBe(5);
    expect(bytes[at(firstChild)]).toBe(13);
  });

  test.each<[string, () => Uint8Array, RegExp]>([
    ['empty file', () => new Uint8Array(0), /only 0 bytes, shorter than the 100-byte SQLite header; the file is truncated/],
    ['wrong magic', () => mutate((b) => (b[0] = 0x73)), /no "SQLite format 3" magic/],
    ['not SQLite at all', () => new TextEncoder().encode('PK\u0003\u0004'.padEnd(200, 'x')), /no "SQLite format 3" magic/],
    ['page size not a power of two', () => mutate((_b, v) => v.setUint16(16, 1000)), /page size 1000, not a power of two/],
    ['bad payload fractions', () => mutate((b) => (b[21] = 10)), /payload fractions are not 64\/32\/32/],
    ['unknown text encoding', () => mutate((_b, v) => v.setUint32(56, 9)), /text encoding 9/],
    ['truncated: the table lies past the end', () => bytes.slice(0, at(root) + 100), /page \d+ lies past the end of the file .*truncated|outside pages/],
    ['a page type that is not a b-tree page', () => mutate((b) => (b[at(firstChild)] = 0x07)), new RegExp(`page ${firstChild} has page type 0x07, not a b-tree page`)],
    ['an index page inside the table', () => mutate((b) => (b[at(firstChild)] = 10)), new RegExp(`page ${firstChild} is an index b-tree page`)],
    ['a child pointer outside the file', () => mutate((v) => new DataView(v.buffer).setUint32(at(root) + new DataView(v.buffer).getUint16(at(root) + 12), 99999)), /points to page 99999, outside pages/],
    ['a b-tree that loops back to its root', () => mutate((b, v) => v.setUint32(at(root) + v.getUint16(at(root) + 12), root)), new RegExp(`page ${root} is reached twice`)],
    ['a cell pointer outside the page', () => mutate((b, v) => v.setUint16(at(firstChild) + 8, 2000)), /cell 0 starts at offset 2000, outside the page/],
    ['too many cells for a page', () => mutate((b, v) => v.setUint16(at(firstChild) + 3, 4000)), /claims 4000 cells, more than fit in a page/],
    ['a record header that runs past the record', () => mutate((b, v) => {
      const cell = at(firstChild) + v.getUint16(at(firstChild) + 8);
      // cell: payload size varint, rowid varint, then the record header size varint
      let p = cell;
      while (b[p] & 0x80) p++;
      p++;
      while (b[p] & 0x80) p++;
      p++;
      b[p] = 0x7f;
    }), /record header size 127 does not fit|record header runs past|runs past the end of the record/],
  ])('%s', (_name, make, message) => {
    expectCatalogError(() => rows(make()), message);
  });

  test('an overflow chain that ends early', () => {
    // find a row with an overflow chain and cut it at its first overflow page
    const u = pageSize;
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const b = bytes.slice();
    const v = new DataView(b.buffer);
    let cut = false;
    const leaves: number[] = [];
    for (let i = 0; i <= v.getUint16(at(root) + 3); i++) {
      const ptr = i < v.getUint16(at(root) + 3) ? v.getUint32(at(root) + v.getUint16(at(root) + 12 + i * 2)) : v.getUint32(at(root) + 8);
      if (b[at(ptr)] === 13) leaves.push(ptr);
    }
    for (const page of leaves) {
      if (cut) break;
      const base = at(page);
      for (let i = 0; i < v.getUint16(base + 3) && !cut; i++) {
        let p = base + v.getUint16(base + 8 + i * 2);
        let size = 0;
        for (;;) {
          const x = b[p++];
          size = size * 128 + (x & 0x7f);
          if (!(x & 0x80)) break;
        }
        if (size <= u - 35) continue;
        while (b[p++] & 0x80);
        const k = m + ((size - m) % (u - 4));
        const local = k <= u - 35 ? k : m;
        v.setUint32(p + local, 0);
        cut = true;
      }
    }
    expect(cut).toBe(true);
    expectCatalogError(() => rows(b), /overflow chain of a cell on page \d+ ends after \d+ of \d+ bytes/);
  });

  test('no such table', () => {
    expectCatalogError(() => new SqliteReader(bytes, 'test db').tableRows('Packages'), /^test db: has no table named Packages$/);
  });
});
