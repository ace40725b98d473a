// Damaged input of every kind — random byte flips, truncations, spliced garbage — seeded so a
// failure replays: each parser returns packages or throws CatalogError, never anything else.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { parseApkInstalled } from '../../../../src/core/analysis/packages/apk.ts';
import { parseDebCopyright, parseDpkgStatus } from '../../../../src/core/analysis/packages/dpkg.ts';
import { parseGoBinary } from '../../../../src/core/analysis/packages/golang.ts';
import { parseNpmPackageJson } from '../../../../src/core/analysis/packages/npm.ts';
import { parseOsRelease } from '../../../../src/core/analysis/packages/os-release.ts';
import { parsePythonMetadata } from '../../../../src/core/analysis/packages/python.ts';
import { parseRpmdbSqlite } from '../../../../src/core/analysis/packages/rpm.ts';
import { CatalogError } from '../../../../src/core/analysis/packages/types.ts';
import { bytesRangeRead, FIXTURES, fixture, gunzipFixture } from './helpers.ts';

/** xorshift32: a small deterministic generator */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** A damaged copy of `b`, focused on [lo, hi) where the structure worth hitting lies. */
function damage(b: Uint8Array, r: () => number, lo = 0, hi = b.length): Uint8Array {
  const kind = Math.floor(r() * 4);
  const at = lo + Math.floor(r() * Math.max(1, hi - lo));
  if (kind === 0) return b.slice(0, at); // truncated
  const c = b.slice();
  if (kind === 1) {
    for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) c[lo + Math.floor(r() * Math.max(1, hi - lo))] = Math.floor(r() * 256);
  } else if (kind === 2) {
    for (let i = at; i < Math.min(c.length, at + 1 + Math.floor(r() * 64)); i++) c[i] = Math.floor(r() * 256);
  } else {
    c.fill(r() < 0.5 ? 0 : 0xff, at, Math.min(c.length, at + 1 + Math.floor(r() * 32)));
  }
  return c;
}

function survives(what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CatalogError)) throw new Error(`${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

const ROUNDS = 300;
const STATUS = existsSync('/var/lib/dpkg/status') ? new Uint8Array(readFileSync('/var/lib/dpkg/status')).slice(0, 20_000) : fixture('dpkg/status.d/libc6');

test.each<[string, Uint8Array, (b: Uint8Array) => unknown]>([
  ['dpkg status', STATUS, (b) => parseDpkgStatus(b, '/var/lib/dpkg/status')],
  ['dpkg status.d', fixture('dpkg/status.d/multiple'), (b) => parseDpkgStatus(b, '/var/lib/dpkg/status.d/multiple')],
  ['copyright', existsSync('/usr/share/doc/dpkg/copyright') ? new Uint8Array(readFileSync('/usr/share/doc/dpkg/copyright')) : fixture('apk/installed'), (b) => parseDebCopyright(b)],
  ['apk', fixture('apk/installed'), (b) => parseApkInstalled(b)],
  ['python', fixture('python/Python-2.7.18-py2.7.egg-info'), (b) => parsePythonMetadata(b, '/x/Python.egg-info')],
  ['npm', new Uint8Array(readFileSync(join(FIXTURES, 'npm/app/node_modules/express/package.json'))), (b) => parseNpmPackageJson(b, '/a/node_modules/express/package.json')],
  ['os-release', fixture('os-release/debian-12'), (b) => parseOsRelease(b)],
])('%s', (what, input, parse) => {
  const r = rng(0x5eed + what.length);
  for (let i = 0; i < ROUNDS; i++) survives(`${what} round ${i}`, () => parse(damage(input, r)));
});

test('rpm database (SQLite pages and header blobs)', () => {
  const db = fixture('rpm/rpmdb.sqlite');
  const r = rng(0xdb);
  let errors = 0;
  for (let i = 0; i < ROUNDS * 3; i++) {
    survives(`rpmdb round ${i}`, () => {
      try {
        parseRpmdbSqlite(damage(db, r), '/var/lib/rpm/rpmdb.sqlite');
      } catch (e) {
        errors++;
        throw e;
      }
    });
  }
  expect(errors).toBeGreaterThan(0);
});

test('Go binary (ELF headers and build info)', async () => {
  const bin = gunzipFixture('go/hello-386.gz');
  let magic = -1;
  for (let i = 0; i < bin.length && magic < 0; i += 16) if (bin[i] === 0xff && bin[i + 1] === 0x20 && bin[i + 2] === 0x47 && bin[i + 3] === 0x6f) magic = i;
  const r = rng(0x60);
  for (let i = 0; i < ROUNDS; i++) {
    // alternate between the ELF headers and the build info, where the parser looks
    const b = i % 2 === 0 ? damage(bin, r, 0, 256) : damage(bin, r, magic, magic + 512);
    try {
      await parseGoBinary(bytesRangeRead(b), b.length);
    } catch (e) {
      if (!(e instanceof CatalogError)) throw new Error(`go round ${i}: threw ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
});
