// The catalogue set a driver runs: each path goes to exactly the cataloger that reads it.
import { expect, test } from 'vitest';
import { FILE_CATALOGERS } from '../../../../src/core/analysis/packages/index.ts';

test('one cataloger per file ecosystem, each with a label and a size limit', () => {
  expect(FILE_CATALOGERS.map((c) => c.ecosystem)).toEqual(['deb', 'apk', 'rpm', 'pypi', 'npm']);
  for (const c of FILE_CATALOGERS) {
    expect(c.label).not.toBe('');
    expect(c.maxBytes).toBeGreaterThan(1024 * 1024);
  }
});

test.each([
  ['/var/lib/dpkg/status', 'deb'],
  ['/var/lib/dpkg/status.d/libc6', 'deb'],
  ['/lib/apk/db/installed', 'apk'],
  ['/var/lib/rpm/rpmdb.sqlite', 'rpm'],
  ['/usr/lib/sysimage/rpm/rpmdb.sqlite', 'rpm'],
  ['/usr/lib/python3/dist-packages/six-1.16.0.egg-info', 'pypi'],
  ['/usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA', 'pypi'],
  ['/app/node_modules/express/package.json', 'npm'],
  ['/etc/os-release', null],
  ['/usr/bin/kubectl', null],
  ['/usr/share/doc/libc6/copyright', null],
])('%s → %s', (path, want) => {
  const hits = FILE_CATALOGERS.filter((c) => c.match(path)).map((c) => c.ecosystem);
  expect(hits).toEqual(want ? [want] : []);
});
