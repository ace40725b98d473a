// apk: a database in the format apk writes (no Alpine source is reachable here to make a real one,
// see the fixtures README), its variants (CRLF, no final newline), and every error path.
import { expect, test } from 'vitest';
import { apkCataloger, parseApkInstalled } from '../../../../src/core/analysis/packages/apk.ts';
import { purlFor } from '../../../../src/core/analysis/packages/purl.ts';
import type { ParsedPackage } from '../../../../src/core/analysis/packages/types.ts';
import { enc, expectCatalogError, fixture, fixtureText } from './helpers.ts';

const DB = fixtureText('apk/installed');
const WANT = fixtureText('apk/expected.tsv').trim().split('\n').map((l) => l.split('\t'));
const rows = (ps: ParsedPackage[]) => ps.map((p) => [p.name, p.version, p.arch, p.license, p.purl?.qualifiers?.upstream ?? '']);

test.each<[string, string]>([
  ['as written', DB],
  ['without the final blank line', DB.trimEnd()],
  ['without any final newline, cut at a field', DB.slice(0, DB.lastIndexOf('\nZ:'))],
  ['CRLF', DB.replace(/\n/g, '\r\n')],
  ['extra blank lines between records', DB.replace(/\n\n/g, '\n\n\n\n')],
])('every package: %s', (_name, text) => {
  expect(rows(parseApkInstalled(enc(text)))).toEqual(WANT);
});

test('the cataloger reads the fixture bytes as they are', () => {
  expect(apkCataloger.parse(fixture('apk/installed'), '/lib/apk/db/installed')).toHaveLength(WANT.length);
});

test('purls: distro namespace and qualifier, origin as upstream when it differs', () => {
  const [musl, , libcrypto] = parseApkInstalled(enc(DB));
  const alpine = { distro: { id: 'alpine', versionId: '3.20.1', prettyName: 'Alpine Linux v3.20' } };
  expect(purlFor('apk', musl, alpine)).toBe('pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1');
  expect(purlFor('apk', libcrypto, alpine)).toBe('pkg:apk/alpine/libcrypto3@3.3.1-r3?arch=x86_64&distro=alpine-3.20.1&upstream=openssl');
  expect(purlFor('apk', musl, { distro: { id: 'wolfi', versionId: '20230201', prettyName: null } })).toBe('pkg:apk/wolfi/musl@1.2.5-r0?arch=x86_64&distro=wolfi-20230201');
  expect(purlFor('apk', musl, { distro: null })).toBe('pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64');
});

test('an empty database has no packages', () => {
  expect(parseApkInstalled(new Uint8Array(0))).toEqual([]);
});

test.each<[string, string, RegExp]>([
  ['a line that is not K:value', 'P:musl\nV:1.2.5-r0\nthis is not a field\n', /line 3 is not a "K:value" field \("this is not a field"\)/],
  ['a record without P', 'V:1.0-r0\nA:x86_64\n\nP:ok\nV:1-r0\n', /record at line 1 has no P: \(package name\) field/],
  ['a record without V (cut mid-record)', `${DB}C:Q1abc=\nP:zlib\n`, /package zlib \(record at line \d+\) has no V: \(version\) field; the database may be truncated/],
  ['a key longer than one letter', 'P:musl\nVV:1.0\n', /line 2 is not a "K:value" field/],
  ['binary garbage', '\u0000\u0001PK\u0003\u0004', /contains NUL bytes/],
])('broken: %s', (_name, text, message) => {
  expectCatalogError(() => parseApkInstalled(enc(text)), message);
});

test.each([
  ['/lib/apk/db/installed', true],
  ['/lib/apk/db/installed.new', false],
  ['/usr/lib/apk/db/installed', false],
  ['/lib/apk/db/scripts.tar', false],
])('match %s → %s', (path, want) => {
  expect(apkCataloger.match(path)).toBe(want);
});
