// rpm: a database made with Debian's rpm tools (test/fixtures/packages/rpm/make.sh) against the
// `rpm -qa` output recorded with it; header blobs broken every way the parser checks.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseRpmHeader, parseRpmdbSqlite, rpmCataloger, rpmVersion } from '../../../../src/core/analysis/packages/rpm.ts';
import { purlFor } from '../../../../src/core/analysis/packages/purl.ts';
import { SqliteReader } from '../../../../src/core/analysis/packages/sqlite.ts';
import { expectCatalogError, FIXTURES, fixture, fixtureText, has, run } from './helpers.ts';

const DB = fixture('rpm/rpmdb.sqlite');
const QA = fixtureText('rpm/rpm-qa.tsv').trim().split('\n').map((l) => l.split('\t'));
const none = (s: string) => (s === '(none)' ? null : s);

test('every package rpm -qa lists, except the gpg-pubkey key entries', () => {
  const got = parseRpmdbSqlite(DB, '/var/lib/rpm/rpmdb.sqlite');
  const want = QA.filter((f) => f[0] !== 'gpg-pubkey');
  expect(QA.some((f) => f[0] === 'gpg-pubkey')).toBe(true);
  expect(got.map((p) => [p.name, p.version, p.arch, p.license, p.purl?.qualifiers?.upstream ?? null]))
    .toEqual(want.map((f) => [f[0], f[1], none(f[2]), none(f[3]), none(f[4])]));
});

test('the fixture exercises WAL mode and overflow pages', () => {
  const db = new SqliteReader(DB);
  expect(db.header.readVersion).toBe(2);
  const sizes = [...db.tableRows('Packages')].map((r) => (r.values[1] as Uint8Array).length);
  expect(Math.max(...sizes)).toBeGreaterThan(db.header.pageSize);
});

test('purls carry the epoch as a qualifier and the source rpm as upstream', () => {
  const epoch = parseRpmdbSqlite(DB, '/var/lib/rpm/rpmdb.sqlite').find((p) => p.name === 'strata-epoch')!;
  expect(epoch.version).toBe('2:3.1.4-7.test');
  expect(purlFor('rpm', epoch, { distro: { id: 'fedora', versionId: '40', prettyName: null } }))
    .toBe('pkg:rpm/fedora/strata-epoch@3.1.4-7.test?arch=noarch&distro=fedora-40&epoch=2&upstream=strata-epoch-3.1.4-7.test.src.rpm');
  expect(purlFor('rpm', epoch, { distro: null })).toBe('pkg:rpm/strata-epoch@3.1.4-7.test?arch=noarch&epoch=2&upstream=strata-epoch-3.1.4-7.test.src.rpm');
});

test.skipIf(!has('rpm'))('rpm itself still reads the fixture as recorded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-rpmdb-'));
  try {
    copyFileSync(join(FIXTURES, 'rpm/rpmdb.sqlite'), join(dir, 'rpmdb.sqlite'));
    const out = run('rpm', ['--define', '_db_backend sqlite', '--dbpath', dir, '-qa', '--qf',
      '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{LICENSE}\t%{SOURCERPM}\n']);
    expect(out.trim().split('\n').map((l) => l.split('\t'))).toEqual(QA);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.each([
  ['/var/lib/rpm/rpmdb.sqlite', true],
  ['/usr/lib/sysimage/rpm/rpmdb.sqlite', true],
  ['/var/lib/rpm/rpmdb.sqlite-wal', false],
  ['/var/lib/rpm/Packages', false],
  ['/var/lib/rpm/Packages.db', false],
  ['/opt/var/lib/rpm/rpmdb.sqlite', false],
])('match %s → %s', (path, want) => {
  expect(rpmCataloger.match(path)).toBe(want);
});

/** Builds a header blob: index entries then the data store, as rpmdb stores it. */
function header(entries: { tag: number; type: number; data: Uint8Array; count?: number }[]): Uint8Array {
  const store: number[] = [];
  const index: number[][] = [];
  for (const e of entries) {
    if (e.type === 4) while (store.length % 4) store.push(0);
    index.push([e.tag, e.type, store.length, e.count ?? 1]);
    store.push(...e.data);
  }
  const b = new Uint8Array(8 + index.length * 16 + store.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, index.length);
  v.setUint32(4, store.length);
  index.forEach((e, i) => e.forEach((x, j) => v.setUint32(8 + i * 16 + j * 4, x)));
  b.set(store, 8 + index.length * 16);
  return b;
}
const str = (tag: number, s: string) => ({ tag, type: 6, data: new TextEncoder().encode(s + '\0') });
const i32 = (tag: number, n: number) => ({ tag, type: 4, data: new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]) });
const basic = [str(1000, 'pkg'), str(1001, '1.2'), str(1002, '3.el9'), str(1022, 'x86_64')];

test.each<[string, Uint8Array, string]>([
  ['no epoch', header(basic), '1.2-3.el9'],
  ['epoch 0 is written (rpm does, when the tag is there)', header([...basic, i32(1003, 0)]), '0:1.2-3.el9'],
  ['epoch 12', header([i32(1003, 12), ...basic]), '12:1.2-3.el9'],
  ['with the lead magic of a .rpm header', (() => {
    const h = header(basic);
    const b = new Uint8Array(h.length + 8);
    b.set([0x8e, 0xad, 0xe8, 0x01], 0);
    b.set(h, 8);
    return b;
  })(), '1.2-3.el9'],
])('header: %s → %s', (_name, blob, version) => {
  expect(rpmVersion(parseRpmHeader(blob))).toBe(version);
});

describe('broken headers and databases end in a CatalogError naming the problem', () => {
  const realBlob = [...new SqliteReader(DB).tableRows('Packages')][1].values[1] as Uint8Array;
  const patched = (fn: (v: DataView) => void) => {
    const b = realBlob.slice();
    fn(new DataView(b.buffer));
    return b;
  };
  test.each<[string, Uint8Array, RegExp]>([
    ['a real header blob cut short', realBlob.slice(0, realBlob.length - 10), /header blob is truncated: \d+ entries and \d+ data bytes need \d+ bytes, it has \d+/],
    ['a blob shorter than its preamble', realBlob.slice(0, 5), /5 bytes, too short for its 8-byte preamble/],
    ['an absurd index count', patched((v) => v.setUint32(0, 0x7fffffff)), /claims 2147483647 index entries/],
    ['no index entries', patched((v) => v.setUint32(0, 0)), /claims 0 index entries/],
    ['an entry pointing past the data', patched((v) => v.setUint32(8 + 16 + 8, 0x0fffff00)), /index entry 1 .*points at data offset \d+, past the \d+-byte data store/],
    ['a string with no NUL', header([{ tag: 1000, type: 6, data: new TextEncoder().encode('name-without-end') }]), /string of tag 1000 has no terminating NUL/],
    ['no NAME', header([str(1001, '1'), str(1002, '1')]), /no NAME tag/],
    ['no VERSION', header([str(1000, 'x'), str(1002, '1')]), /package x has no VERSION tag/],
    ['NAME that is not a string', header([i32(1000, 5)]), /tag 1000 has type 4, not a string/],
    ['EPOCH that is not an integer', header([...basic, str(1003, '1')]), /EPOCH has type 6, not INT32/],
  ])('%s', (_name, blob, message) => {
    expectCatalogError(() => parseRpmHeader(blob, 'rpm header'), message);
  });

  test('a truncated database names the page past the end', () => {
    expectCatalogError(() => parseRpmdbSqlite(DB.slice(0, 20000), '/var/lib/rpm/rpmdb.sqlite'),
      /^rpm database \/var\/lib\/rpm\/rpmdb\.sqlite: .*(past the end of the file|outside pages)/);
  });

  test('a BerkeleyDB Packages file (not SQLite) is named as such', () => {
    const bdb = new Uint8Array(4096);
    new DataView(bdb.buffer).setUint32(12, 0x00061561, true);
    expectCatalogError(() => parseRpmdbSqlite(bdb, '/var/lib/rpm/rpmdb.sqlite'), /no "SQLite format 3" magic/);
  });

  test('a header blob damaged inside the database names its row', () => {
    const db = DB.slice();
    // the first header's index count sits right after its record header; find it by content
    const needle = realBlob.subarray(0, 16);
    let at = -1;
    for (let i = 0; i < db.length - 16 && at < 0; i++) if (needle.every((x, j) => db[i + j] === x)) at = i;
    expect(at).toBeGreaterThan(0);
    new DataView(db.buffer).setUint32(at, 0x7fffffff);
    expectCatalogError(() => parseRpmdbSqlite(db, '/var/lib/rpm/rpmdb.sqlite'), /Packages row \d+: header blob claims 2147483647 index entries/);
  });
});
