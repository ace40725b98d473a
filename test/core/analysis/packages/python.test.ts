// Python: every distribution in this machine's real site-packages directories against what
// importlib.metadata reports for the same directory; real distutils egg-info files; edge cases.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parsePythonMetadata, pep503Name, pythonCataloger } from '../../../../src/core/analysis/packages/python.ts';
import { purlFor } from '../../../../src/core/analysis/packages/purl.ts';
import { enc, expectCatalogError, fixture, has, run } from './helpers.ts';

const LIST = `
import glob, json, os, sys, importlib.metadata as md
patterns = ['/usr/lib/python3/dist-packages', '/usr/local/lib/python3*/*-packages', '/usr/lib/python3*/*-packages',
            '/root/.pyenv/versions/*/lib/python*/site-packages', '/root/.pyenv/versions/*/lib/python*',
            '/root/.pyenv/versions/*/lib/python*/lib-dynload', '/opt/*/lib/python*/site-packages',
            '/usr/lib/google-cloud-sdk/platform/bundledpythonunix/lib/python*/site-packages']
dirs = sorted({d for p in patterns for d in glob.glob(p) if os.path.isdir(d)})
out = []
for d in dirs:
    for dist in md.distributions(path=[d]):
        m = dist.metadata
        out.append({'dir': d, 'path': str(dist._path), 'name': m['Name'], 'version': m['Version'],
                    'expression': m['License-Expression'], 'license': m['License']})
json.dump(out, sys.stdout)
`;

interface Dist { dir: string; path: string; name: string | null; version: string | null; expression: string | null; license: string | null }

/** The file a distribution's metadata is in, as the catalogue sees it. */
function metadataFile(dist: string): string {
  if (dist.endsWith('.dist-info')) return `${dist}/METADATA`;
  return statSync(dist).isDirectory() ? `${dist}/PKG-INFO` : dist;
}

const python = has('python3');

describe.skipIf(!python)('this machine’s site-packages against importlib.metadata', () => {
  // a skipped describe still runs its body: ask python only when it is there
  const dists = python ? (JSON.parse(run('python3', ['-c', LIST])) as Dist[]).filter((d) => existsSync(metadataFile(d.path))) : [];

  test('name and version of every distribution, in every directory', () => {
    expect(dists.length).toBeGreaterThan(20);
    const dirs = new Set(dists.map((d) => d.dir));
    let eggFiles = 0;
    for (const d of dists) {
      const file = metadataFile(d.path);
      if (file === d.path) eggFiles++;
      expect(pythonCataloger.match(file), file).toBe(true);
      if (!d.name || !d.version) {
        expectCatalogError(() => parsePythonMetadata(new Uint8Array(readFileSync(file)), file), /no (Name|Version) field/);
        continue;
      }
      const [p] = parsePythonMetadata(new Uint8Array(readFileSync(file)), file);
      expect([p.name, p.version], file).toEqual([d.name, d.version]);
      // the licence as given: License-Expression first, else a one-line License field
      if (d.expression) expect(p.license, file).toBe(d.expression);
      else if (d.license && !d.license.includes('\n') && d.license.length <= 100 && d.license !== 'UNKNOWN') expect(p.license, file).toBe(d.license.trim());
    }
    console.log(`python: ${dists.length} distributions (${eggFiles} egg-info files) in ${dirs.size} directories agree with importlib.metadata`);
  });
});

test.each<[string, string, string | null]>([
  ['python/wsgiref-0.1.2.egg-info', 'wsgiref@0.1.2', 'PSF or ZPL'],
  ['python/Python-2.7.18-py2.7.egg-info', 'Python@2.7.18', 'PSF license'],
])('real distutils egg-info file %s', (file, want, license) => {
  const [p] = parsePythonMetadata(fixture(file), `/usr/lib/python2.7/${file.split('/')[1]}`);
  expect(`${p.name}@${p.version}`).toBe(want);
  expect(p.license).toBe(license);
});

const meta = (...lines: string[]) => ['Metadata-Version: 2.1', 'Name: Some_Package.x', 'Version: 1.0', ...lines].join('\n') + '\n';

test.each<[string, string, string | null]>([
  ['License-Expression wins over License and classifiers', meta('License: BSD', 'License-Expression: MIT OR Apache-2.0', 'Classifier: License :: OSI Approved :: MIT License'), 'MIT OR Apache-2.0'],
  ['a one-line License', meta('License: BSD-3-Clause'), 'BSD-3-Clause'],
  ['License UNKNOWN falls to the classifiers', meta('License: UNKNOWN', 'Classifier: License :: OSI Approved :: MIT License'), 'MIT'],
  ['a License holding a whole text is not a name', meta('License: Copyright (c) 2020 Someone', '        Permission is hereby granted, free of charge', 'Classifier: License :: OSI Approved :: BSD License'), 'BSD License'],
  ['two SPDX-mappable classifiers are a choice', meta('Classifier: License :: OSI Approved :: MIT License', 'Classifier: License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)'), 'MIT OR GPL-2.0-or-later'],
  ['unmappable classifiers are listed as given', meta('Classifier: License :: OSI Approved :: Apache Software License', 'Classifier: License :: OSI Approved :: BSD License'), 'Apache Software License, BSD License'],
  ['"OSI Approved" alone names nothing', meta('Classifier: License :: OSI Approved', 'Classifier: Programming Language :: Python'), null],
  ['no licence at all', meta(), null],
  ['fields after the header are the description, not fields', meta('') + 'License: GPL\n', null],
  ['CRLF', meta('License: ISC').replace(/\n/g, '\r\n'), 'ISC'],
])('%s', (_name, text, license) => {
  const [p] = parsePythonMetadata(enc(text), '/site-packages/x-1.0.dist-info/METADATA');
  expect(p).toMatchObject({ name: 'Some_Package.x', version: '1.0', license });
});

test.each([
  ['Some_Package.x', 'some-package-x'],
  ['zope.interface', 'zope-interface'],
  ['PyYAML', 'pyyaml'],
  ['a--b__c..d', 'a-b-c-d'],
  ['A_-_B', 'a-b'],
])('PEP 503 name %s → %s', (name, want) => {
  expect(pep503Name(name)).toBe(want);
  expect(purlFor('pypi', { name, version: '1.0' }, { distro: null })).toBe(`pkg:pypi/${want}@1.0`);
});

test.each<[string, string, RegExp]>([
  ['no Name', 'Metadata-Version: 2.1\nVersion: 1.0\n', /python metadata \(METADATA\): no Name field/],
  ['no Version', 'Metadata-Version: 2.1\nName: foo\n', /python metadata \(METADATA\): foo has no Version field/],
  ['empty file', '', /no Name field/],
  ['not metadata at all', '\x7fELF\x02\x01\x01\0\0\0', /no Name field/],
  ['Name only in the body', 'Metadata-Version: 2.1\n\nName: foo\nVersion: 1\n', /no Name field/],
])('broken: %s', (_name, text, message) => {
  expectCatalogError(() => parsePythonMetadata(enc(text), '/site-packages/x-1.0.dist-info/METADATA'), message);
});

test.each([
  ['/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', true],
  ['/app/.venv/lib/python3.12/site-packages/requests-2.32.3.dist-info/METADATA', true],
  ['/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO', true],
  ['/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info', true],
  ['/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD', false],
  ['/usr/lib/python3/dist-packages/six-1.16.0.egg-info/requires.txt', false],
  ['/usr/lib/python3/dist-packages/foo/METADATA', false],
  ['/usr/lib/python3/dist-packages/foo.egg-info.bak', false],
])('match %s → %s', (path, want) => {
  expect(pythonCataloger.match(path)).toBe(want);
});
