// Package URLs as syft and trivy write them, for each ecosystem, with and without a known distro.
import { expect, test } from 'vitest';
import type { Ecosystem } from '../../../../src/core/analysis/types.ts';
import { purlFor } from '../../../../src/core/analysis/packages/purl.ts';
import { CatalogError, type ParsedPackage, type PurlContext } from '../../../../src/core/analysis/packages/types.ts';

const debian12: PurlContext = { distro: { id: 'debian', versionId: '12', prettyName: null } };
const ubuntu: PurlContext = { distro: { id: 'ubuntu', versionId: '24.04', prettyName: null } };
const sid: PurlContext = { distro: { id: 'debian', versionId: null, prettyName: null } };
const none: PurlContext = { distro: null };

test.each<[string, Ecosystem, ParsedPackage, PurlContext, string]>([
  // packageurl-js leaves "+" in a version as is (packageurl-go, so syft, writes %2B); both decode alike
  ['deb with upstream', 'deb', { name: 'libc6', version: '2.36-9+deb12u7', arch: 'amd64', purl: { qualifiers: { upstream: 'glibc' } } }, debian12,
    'pkg:deb/debian/libc6@2.36-9+deb12u7?arch=amd64&distro=debian-12&upstream=glibc'],
  ['deb keeps the epoch in the version, as syft does', 'deb', { name: 'zlib1g', version: '1:1.2.13.dfsg-1', arch: 'amd64', purl: { qualifiers: { upstream: 'zlib' } } }, debian12,
    'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib'],
  ['deb on ubuntu', 'deb', { name: 'bash', version: '5.2.21-2ubuntu4', arch: 'amd64' }, ubuntu, 'pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=amd64&distro=ubuntu-24.04'],
  ['deb, distro without a version', 'deb', { name: 'bash', version: '5.2', arch: 'all' }, sid, 'pkg:deb/debian/bash@5.2?arch=all&distro=debian'],
  ['deb, distro unknown: debian namespace, no distro qualifier', 'deb', { name: 'libstdc++6', version: '12.2.0-14', arch: 'amd64' }, none,
    'pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64'],
  ['apk, distro unknown', 'apk', { name: 'musl', version: '1.2.5-r0', arch: 'x86_64' }, none, 'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64'],
  ['rpm, distro unknown: no namespace', 'rpm', { name: 'bash', version: '5.1.8-9.el9', arch: 'x86_64' }, none, 'pkg:rpm/bash@5.1.8-9.el9?arch=x86_64'],
  ['pypi', 'pypi', { name: 'Jinja2', version: '3.1.4' }, debian12, 'pkg:pypi/jinja2@3.1.4'],
  ['npm unscoped', 'npm', { name: 'express', version: '4.21.2' }, none, 'pkg:npm/express@4.21.2'],
  ['golang module', 'golang', { name: 'github.com/BurntSushi/toml', version: 'v1.4.0' }, none, 'pkg:golang/github.com/BurntSushi/toml@v1.4.0'],
  ['golang major-version suffix', 'golang', { name: 'github.com/blang/semver/v4', version: 'v4.0.0' }, none, 'pkg:golang/github.com/blang/semver/v4@v4.0.0'],
  ['golang single-element path', 'golang', { name: 'rsc.io', version: 'v1.0.0' }, none, 'pkg:golang/rsc.io@v1.0.0'],
  ['go stdlib: version without "go"', 'golang', { name: 'stdlib', version: 'go1.22.5' }, none, 'pkg:golang/stdlib@1.22.5'],
])('%s', (_name, eco, pkg, ctx, want) => {
  expect(purlFor(eco, pkg, ctx)).toBe(want);
});

test('a package that cannot be a purl is a CatalogError', () => {
  expect(() => purlFor('npm', { name: '', version: '1' }, none)).toThrow(CatalogError);
});
