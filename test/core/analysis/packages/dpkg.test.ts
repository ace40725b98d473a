// dpkg: this machine's own status database against dpkg-query, distroless status.d files made
// from it, hand-written edge cases, every error path, and copyright files against python-debian.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  debCopyrightLicenses, debCopyrightMatch, debianLicenseToSpdx, dpkgCataloger, dpkgStatusMatch, parseDebCopyright, parseDpkgStatus,
} from '../../../../src/core/analysis/packages/dpkg.ts';
import type { ParsedPackage } from '../../../../src/core/analysis/packages/types.ts';
import { bestTime, enc, expectCatalogError, FIXTURES, fixture, fixtureText, has, run } from './helpers.ts';

const STATUS = '/var/lib/dpkg/status';
const row = (p: ParsedPackage) => `${p.name}\t${p.version}\t${p.arch}`;

const hasDpkg = has('dpkg-query') && existsSync(STATUS);

describe.skipIf(!hasDpkg)('this machine’s dpkg status', () => {
  // a skipped describe still runs its body: read nothing unless the machine has dpkg
  const bytes = hasDpkg ? new Uint8Array(readFileSync(STATUS)) : new Uint8Array(0);
  const ours = hasDpkg ? parseDpkgStatus(bytes, STATUS) : [];
  // installed = second letter of the abbreviation: i (installed), W/t (triggers awaited/pending)
  const live = hasDpkg
    ? run('dpkg-query', ['-W', '-f=${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\t${source:Package}\t${source:Version}\n'])
      .split('\n').filter(Boolean).map((l) => l.split('\t'))
    : [];
  const installed = live.filter((f) => 'iWt'.includes(f[3][1]));

  test('the installed set equals dpkg-query’s, package by package', () => {
    expect(installed.length).toBeGreaterThan(50);
    expect(ours.map(row).sort()).toEqual(installed.map((f) => f.slice(0, 3).join('\t')).sort());
  });

  test('the upstream qualifier names the source package (and its version when it differs)', () => {
    const bySource = new Map(installed.map((f) => [`${f[0]}:${f[2]}`, f]));
    for (const p of ours) {
      const f = bySource.get(`${p.name}:${p.arch}`)!;
      const up = p.purl?.qualifiers?.upstream;
      if (!up) {
        expect(f[4], p.name).toBe(p.name);
        continue;
      }
      const [src, ver] = up.split('@');
      expect(src, p.name).toBe(f[4]);
      expect(ver ?? p.version, p.name).toBe(f[5]);
    }
  });

  test('a 5 MB status file parses in well under 100 ms', () => {
    const copies = Math.ceil((5 * 1024 * 1024) / bytes.length);
    const big = new Uint8Array(bytes.length * copies);
    for (let i = 0; i < copies; i++) big.set(bytes, i * bytes.length);
    let n = 0;
    const ms = bestTime(() => (n = parseDpkgStatus(big, STATUS).length), 10);
    expect(n).toBe(ours.length * copies);
    console.log(`dpkg status: ${(big.length / 1e6).toFixed(1)} MB, ${n} packages in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
  });
});

describe('distroless status.d (stanzas from this machine’s database, no Status line)', () => {
  const dir = join(FIXTURES, 'dpkg/status.d');
  const expected = fixtureText('dpkg/status.d.expected.tsv').trim().split('\n').map((l) => l.split('\t'));
  const files = readdirSync(dir).sort();
  const parsed = files.filter((f) => dpkgStatusMatch(`/var/lib/dpkg/status.d/${f}`))
    .flatMap((f) => parseDpkgStatus(fixture(`dpkg/status.d/${f}`), `/var/lib/dpkg/status.d/${f}`));

  test('every package, with its source package', () => {
    expect(parsed.map(row).sort()).toEqual(expected.map((f) => f.slice(0, 3).join('\t')).sort());
    for (const p of parsed) {
      const f = expected.find((e) => e[0] === p.name)!;
      expect((p.purl?.qualifiers?.upstream ?? p.name).split('@')[0]).toBe(f[3]);
    }
  });

  test('the .md5sums file is not asked for, and a non-stanza file yields nothing', () => {
    expect(files).toContain('base-files.md5sums');
    expect(dpkgStatusMatch('/var/lib/dpkg/status.d/base-files.md5sums')).toBe(false);
    expect(parseDpkgStatus(fixture('dpkg/status.d/base-files.md5sums'), '/var/lib/dpkg/status.d/x')).toEqual([]);
  });
});

test.each([
  ['/var/lib/dpkg/status', true],
  ['/var/lib/dpkg/status.d/libc6', true],
  ['/var/lib/dpkg/status.d/libc6.md5sums', false],
  ['/var/lib/dpkg/status.d/sub/libc6', false],
  ['/var/lib/dpkg/status.d/', false],
  ['/var/lib/dpkg/status-old', false],
  ['/var/lib/dpkg/available', false],
  ['/usr/lib/dpkg/status', false],
])('match %s → %s', (path, want) => {
  expect(dpkgCataloger.match(path)).toBe(want);
});

const stanza = (name: string, status: string | null, extra = '') =>
  `Package: ${name}\n${status === null ? '' : `Status: ${status}\n`}Architecture: amd64\nVersion: 1.0-1\n${extra}`;

test.each([
  ['install ok installed', true],
  ['hold ok installed', true],
  ['install ok triggers-pending', true],
  ['install ok triggers-awaited', true],
  ['deinstall ok config-files', false],
  ['purge ok not-installed', false],
  ['install ok half-installed', false],
  ['install reinstreq half-installed', false],
  ['install ok unpacked', false],
  ['install ok half-configured', false],
])('Status: %s → installed %s', (status, want) => {
  expect(parseDpkgStatus(enc(stanza('p', status)), STATUS).length).toBe(want ? 1 : 0);
});

test.each<[string, string, Partial<ParsedPackage>[]]>([
  ['Source with a version', stanza('libgcc-s1', 'install ok installed', 'Source: gcc-12 (12.2.0-14)\n'),
    [{ name: 'libgcc-s1', version: '1.0-1', arch: 'amd64', purl: { qualifiers: { upstream: 'gcc-12@12.2.0-14' } } }]],
  ['Source without', stanza('libc6', 'install ok installed', 'Source: glibc\n'), [{ name: 'libc6', purl: { qualifiers: { upstream: 'glibc' } } }]],
  ['continuation lines and a multi-line Description',
    stanza('a', 'install ok installed', 'Conffiles:\n /etc/a 0123\n /etc/b 4567\nDescription: short\n long\n .\n more\n'), [{ name: 'a' }]],
  ['CRLF line ends', stanza('a', 'install ok installed').replace(/\n/g, '\r\n') + '\r\n' + stanza('b', 'install ok installed').replace(/\n/g, '\r\n'),
    [{ name: 'a', version: '1.0-1', arch: 'amd64' }, { name: 'b', version: '1.0-1', arch: 'amd64' }]],
  ['no final newline', stanza('a', 'install ok installed').trimEnd(), [{ name: 'a', arch: 'amd64' }]],
  ['blank lines of spaces between stanzas', `${stanza('a', 'install ok installed')}  \n\n\n${stanza('b', 'install ok installed')}`, [{ name: 'a' }, { name: 'b' }]],
  ['field names in any case', 'package: a\nSTATUS: install ok installed\nversion: 2\n', [{ name: 'a', version: '2', arch: null }]],
  ['invalid UTF-8 is replaced, not fatal', stanza('a', 'install ok installed', 'Maintainer: J\xffrg\n'), [{ name: 'a' }]],
])('%s', (_name, text, want) => {
  const got = parseDpkgStatus(enc(text), STATUS);
  expect(got).toHaveLength(want.length);
  want.forEach((w, i) => expect(got[i]).toMatchObject(w));
});

describe('broken status files end in a CatalogError naming the problem', () => {
  const real = existsSync(STATUS) ? readFileSync(STATUS, 'utf8') : stanza('a', 'install ok installed') + '\n' + stanza('b', 'install ok installed');
  const secondStanza = real.indexOf('\n\n') + 2;
  test.each<[string, string | Uint8Array, RegExp]>([
    ['cut inside a field name', real.slice(0, secondStanza + 5), /line \d+ is not a "Field: value" line.*truncated or corrupt/],
    ['cut inside the Status value', stanza('a', 'install ok inst'), /package a .*unknown Status "install ok inst"/],
    ['garbage bytes', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), /NUL bytes.*not a text database/],
    ['prose instead of fields', 'this is not\na dpkg status file\n', /line 1 is not a "Field: value" line/],
    ['a stanza with no Package', 'Status: install ok installed\nVersion: 1\n', /stanza at line 1 has no Package field/],
    ['an installed package with no Version', 'Package: a\nStatus: install ok installed\n', /installed package a \(line 1\) has no Version/],
    ['a continuation line first', ' leading continuation\nPackage: a\n', /line 1 is a continuation line/],
    ['four-word Status', stanza('a', 'install ok installed extra'), /unknown Status/],
  ])('%s', (_name, input, message) => {
    expectCatalogError(() => parseDpkgStatus(typeof input === 'string' ? enc(input) : input, STATUS), message);
  });
});

describe('copyright files', () => {
  test.each([
    ['/usr/share/doc/libc6/copyright', 'libc6'],
    ['/usr/share/doc/libstdc++6/copyright', 'libstdc++6'],
    ['/usr/share/doc/libc6/changelog.gz', null],
    ['/usr/share/doc/libc6/sub/copyright', null],
    ['/usr/share/doc/copyright', null],
    ['/usr/share/doc/../copyright', null],
  ])('debCopyrightMatch(%s) → %s', (path, want) => {
    expect(debCopyrightMatch(path)).toBe(want);
  });

  test.each([
    ['GPL-2+', 'GPL-2.0-or-later'],
    ['GPL-2', 'GPL-2.0-only'],
    ['GPL-3.0+', 'GPL-3.0-or-later'],
    ['LGPL-2.1+', 'LGPL-2.1-or-later'],
    ['LGPL-2', 'LGPL-2.0-only'],
    ['AGPL-3+', 'AGPL-3.0-or-later'],
    ['GFDL-1.3+', 'GFDL-1.3-or-later'],
    ['BSD-3-clause', 'BSD-3-Clause'],
    ['BSD-2-Clause', 'BSD-2-Clause'],
    ['Expat', 'MIT'],
    ['Apache-2.0', 'Apache-2.0'],
    ['zlib', 'Zlib'],
    ['public-domain', 'LicenseRef-public-domain'],
    ['Artistic', 'LicenseRef-Artistic'],
    ['GPL-2+ or Artistic', 'GPL-2.0-or-later OR LicenseRef-Artistic'],
    ['BSD-3-clause and Expat', 'BSD-3-Clause AND MIT'],
    ['GPL-2+ or Artistic, and BSD-3-clause', '(GPL-2.0-or-later OR LicenseRef-Artistic) AND BSD-3-Clause'],
    ['GPL-3+ with GCC-exception-3.1 exception', 'GPL-3.0-or-later WITH GCC-exception-3.1'],
    ['GPL-2+ with OpenSSL exception', 'LicenseRef-GPL-2-with-OpenSSL-exception'],
    ['GPL-2+ or', 'LicenseRef-GPL-2-or'],
    ['', null],
  ])('debianLicenseToSpdx(%j) → %j', (field, want) => {
    expect(debianLicenseToSpdx(field)).toBe(want);
  });

  const dep5 = (...licenses: string[]) => [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: x',
    '',
    ...licenses.flatMap((l, i) => [`Files: f${i}/*`, 'Copyright: 2024 Someone', `License: ${l}`, ' Full text that is not the name.', '']),
    'License: GPL-2+',
    ' A stand-alone licence paragraph (no Files:) is a text, not a file licence.',
  ].join('\n');

  test.each<[string, string, string | null]>([
    ['one licence', dep5('GPL-2+'), 'GPL-2.0-or-later'],
    ['distinct licences joined with AND, each once', dep5('GPL-2+', 'Expat', 'GPL-2+', 'BSD-3-clause'), 'GPL-2.0-or-later AND MIT AND BSD-3-Clause'],
    ['a choice stays a parenthesised OR', dep5('Expat', 'GPL-2+ or Artistic'), 'MIT AND (GPL-2.0-or-later OR LicenseRef-Artistic)'],
    ['an "and" adds its parts', dep5('GPL-2+', 'GPL-2+ and ISC'), 'GPL-2.0-or-later AND ISC'],
    ['public domain kept as a LicenseRef', dep5('public-domain'), 'LicenseRef-public-domain'],
    ['CRLF', dep5('Expat').replace(/\n/g, '\r\n'), 'MIT'],
    ['prose (not machine-readable)', 'This package was debianized by X.\n\nLicense: GPL-2+\n', null],
    ['DEP-5 after a prose preamble', 'Debianized by X.\n\n' + dep5('GPL-2+'), null],
    ['machine-readable with no Files paragraph', 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n', null],
  ])('parseDebCopyright: %s', (_name, text, want) => {
    expect(parseDebCopyright(enc(text))).toBe(want);
  });

  // python-debian's parser (Debian's own) decides what is machine-readable and reads the Files
  // paragraphs; ours must find the same licence names in every copyright file on this machine.
  const py = '/usr/bin/python3';
  const hasPythonDebian = existsSync(py) && existsSync('/usr/share/doc') && (() => {
    try {
      run(py, ['-c', 'import debian.copyright']);
      return true;
    } catch {
      return false;
    }
  })();
  test.skipIf(!hasPythonDebian)('the licence names of every /usr/share/doc/*/copyright equal python-debian’s', () => {
    const script = `
import glob, json, sys, warnings, logging
warnings.simplefilter('ignore'); logging.disable(logging.CRITICAL)
from debian.copyright import Copyright, NotMachineReadableError
out = {}
for f in sorted(glob.glob('/usr/share/doc/*/copyright')):
    try:
        with open(f, encoding='utf-8', errors='replace') as fh:
            c = Copyright(fh, strict=False)
    except NotMachineReadableError:
        out[f] = None; continue
    except Exception as e:
        out[f] = {'error': str(e)}; continue
    seen = []
    for p in c.all_files_paragraphs():
        if p.license is None: continue
        s = p.license.synopsis.strip()
        if s and s not in seen: seen.append(s)
    out[f] = seen
json.dump(out, sys.stdout)
`;
    const want = JSON.parse(run(py, ['-c', script])) as Record<string, string[] | null | { error: string }>;
    const compared = Object.entries(want).filter(([, w]) => w === null || Array.isArray(w));
    expect(compared.length).toBeGreaterThan(100);
    const mismatches = compared.filter(([f, w]) => JSON.stringify(debCopyrightLicenses(readFileSync(f))) !== JSON.stringify(w));
    expect(mismatches).toEqual([]);
    // and every machine-readable one becomes an expression (or null when it names nothing)
    for (const [f] of compared) parseDebCopyright(readFileSync(f));
    console.log(`copyright: ${compared.length} files agree with python-debian (${compared.filter(([, w]) => w === null).length} not machine-readable)`);
  });
});
