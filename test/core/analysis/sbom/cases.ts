// Inputs for the SBOM writer tests: images as the archive readers describe them (tagged or not,
// with or without a manifest digest) and package records as the catalogers produce them.
import type { ImageMeta, LayerInfo } from '../../../../src/core/model.ts';
import type { PackageRecord } from '../../../../src/core/analysis/types.ts';
import type { SbomInput } from '../../../../src/core/analysis/sbom/index.ts';

const hex = (c: string) => c.repeat(64);

export function meta(o: { name: string; tags?: string[]; digest?: string; layers?: number; arch?: string }): ImageMeta {
  const layers: LayerInfo[] = Array.from({ length: o.layers ?? 3 }, (_, i) => ({
    index: i,
    digest: `sha256:${hex(String.fromCharCode(97 + i))}`,
    // the last layer of every image has no diff_id: legacy archives can lack them
    ...(i < (o.layers ?? 3) - 1 ? { diffId: `sha256:${hex(String(i + 1))}` } : {}),
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    compression: 'gzip',
    compressedSize: 1000 + i,
    member: `blobs/sha256/${hex(String.fromCharCode(97 + i))}`,
  }));
  return {
    source: { name: 'image.tar', size: 12345 },
    format: 'oci-layout',
    image: {
      index: 0, name: o.name, tags: o.tags ?? [], layerCount: layers.length,
      ...(o.arch !== undefined ? { platform: { os: 'linux', architecture: o.arch } } : {}),
      ...(o.digest ? { digest: o.digest } : {}),
    },
    config: { env: [], entrypoint: null, cmd: null, exposedPorts: [], volumes: [], labels: {} },
    history: [],
    layers,
    rawConfig: '{}',
  };
}

export function pkg(o: Partial<PackageRecord> & Pick<PackageRecord, 'ecosystem' | 'name' | 'version' | 'purl'>): PackageRecord {
  return { arch: null, license: null, locations: [], layer: 1, removedIn: null, replacedBy: null, ...o };
}

const DEBIAN_PACKAGES: PackageRecord[] = [
  pkg({ ecosystem: 'deb', name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64', license: 'LGPL-2.1-or-later AND GPL-2.0-or-later',
    purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12', locations: ['/var/lib/dpkg/status'], layer: 1 }),
  // replaced by a later layer's upgrade: two records, one removed
  pkg({ ecosystem: 'deb', name: 'openssl', version: '3.0.11-1~deb12u2', arch: 'amd64', license: 'Apache-2.0',
    purl: 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12', locations: ['/var/lib/dpkg/status'],
    layer: 1, removedIn: 3, replacedBy: '3.0.13-1~deb12u1' }),
  pkg({ ecosystem: 'deb', name: 'openssl', version: '3.0.13-1~deb12u1', arch: 'amd64', license: 'Apache-2.0',
    purl: 'pkg:deb/debian/openssl@3.0.13-1~deb12u1?arch=amd64&distro=debian-12', locations: ['/var/lib/dpkg/status'], layer: 3 }),
  // removed outright (apt-get purge), nothing replaces it
  pkg({ ecosystem: 'deb', name: 'wget', version: '1.21.3-1+b2', arch: 'amd64', license: 'GPL-3+',
    purl: 'pkg:deb/debian/wget@1.21.3-1%2Bb2?arch=amd64&distro=debian-12', locations: ['/var/lib/dpkg/status'], layer: 2, removedIn: 3 }),
  // free-text licences, one of them twice (one LicenseRef), one that only looks like a plus
  pkg({ ecosystem: 'deb', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', license: 'GPL-3+',
    purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12', locations: ['/var/lib/dpkg/status'], layer: 1 }),
  pkg({ ecosystem: 'deb', name: 'tzdata', version: '2024a-0+deb12u1', arch: 'all', license: 'public-domain',
    purl: 'pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12', locations: ['/var/lib/dpkg/status'], layer: 1 }),
  // scoped npm name, and the same purl at two places in one layer
  pkg({ ecosystem: 'npm', name: '@babel/core', version: '7.24.0', license: 'MIT', purl: 'pkg:npm/%40babel/core@7.24.0',
    locations: ['/app/node_modules/@babel/core/package.json'], layer: 2 }),
  pkg({ ecosystem: 'npm', name: '@babel/core', version: '7.24.0', license: 'MIT', purl: 'pkg:npm/%40babel/core@7.24.0',
    locations: ['/app/packages/web/node_modules/@babel/core/package.json'], layer: 2 }),
  // an expression written loosely: lower-case operator, redundant parentheses
  pkg({ ecosystem: 'npm', name: 'left-pad', version: '1.3.0', license: '(WTFPL or MIT)', purl: 'pkg:npm/left-pad@1.3.0',
    locations: ['/app/node_modules/left-pad/package.json'], layer: 2 }),
  pkg({ ecosystem: 'pypi', name: 'requests', version: '2.31.0', license: 'Apache 2.0', purl: 'pkg:pypi/requests@2.31.0',
    locations: ['/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA'], layer: 2 }),
  // a LicenseRef names a text the input does not carry: free text, so the document can define it
  pkg({ ecosystem: 'pypi', name: 'internal-tool', version: '0.1', license: 'LicenseRef-Proprietary', purl: 'pkg:pypi/internal-tool@0.1',
    locations: ['/usr/lib/python3/dist-packages/internal_tool-0.1.dist-info/METADATA'], layer: 3 }),
  pkg({ ecosystem: 'golang', name: 'github.com/spf13/cobra', version: 'v1.8.0', purl: 'pkg:golang/github.com/spf13/cobra@v1.8.0',
    locations: ['/usr/local/bin/app'], layer: 3 }),
  // a name with every character class that needs escaping somewhere: quotes, backslash, markup,
  // spaces, slash, plus, non-ASCII; and a licence text with a newline
  pkg({ ecosystem: 'pypi', name: 'wé "ird" \\ <pkg> a/b+c', version: '1.0+local', license: 'Custom "licence"\nsee COPYING',
    purl: 'pkg:pypi/w%C3%A9%20%22ird%22%20%5C%20%3Cpkg%3E%20a%2Fb%2Bc@1.0%2Blocal',
    locations: ['/opt/w é/"ird".dist-info/METADATA', '/opt/w é/"ird".dist-info/METADATA'], layer: 3 }),
];

const CREATED = new Date('2024-05-01T12:34:56.789Z');

export interface Case { name: string; input: SbomInput }

/** Each case is written in both formats and both scopes by the tests. */
export const CASES: Case[] = [
  {
    name: 'debian image with packages of every kind',
    input: {
      meta: meta({ name: 'docker.io/library/debian:12', tags: ['docker.io/library/debian:12', 'debian:bookworm'], digest: `sha256:${hex('d')}`, arch: 'amd64' }),
      packages: DEBIAN_PACKAGES, scope: 'squashed', distro: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
      created: CREATED, toolVersion: '0.1.0',
    },
  },
  {
    name: 'image without a digest or tags (a plain root filesystem)',
    input: {
      meta: { ...meta({ name: 'root filesystem', layers: 1 }), format: 'rootfs' },
      packages: [pkg({ ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', arch: 'x86_64', license: 'MIT',
        purl: 'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1', locations: ['/lib/apk/db/installed'] })],
      scope: 'squashed', distro: { id: 'alpine', versionId: null, prettyName: null }, created: CREATED, toolVersion: '0.1.0',
    },
  },
  {
    name: 'tagged image without a digest, registry with a port',
    input: {
      meta: meta({ name: 'localhost:5000/team/app:dev', tags: ['localhost:5000/team/app:dev'], layers: 2 }),
      packages: [pkg({ ecosystem: 'npm', name: 'express', version: '4.19.2', license: 'MIT', purl: 'pkg:npm/express@4.19.2',
        locations: ['/srv/node_modules/express/package.json'], layer: 2 })],
      scope: 'squashed', distro: null, created: CREATED, toolVersion: '0.1.0',
    },
  },
  {
    name: 'zero packages, digest but no tags',
    input: {
      meta: meta({ name: 'sha256:0123456789ab', digest: `sha256:${hex('0')}`, layers: 1 }),
      packages: [], scope: 'squashed', distro: null, created: CREATED, toolVersion: '0.1.0-dev+abc',
    },
  },
  {
    name: 'OCI ref.name with a registry port and digest',
    input: {
      meta: meta({ name: 'registry.example.com:8443/Team/Service:v2.0', tags: ['registry.example.com:8443/team/service:v2.0'], digest: `sha256:${hex('e')}`, arch: 'arm64' }),
      packages: [pkg({ ecosystem: 'rpm', name: 'glibc', version: '2.34-100.el9', arch: 'aarch64', license: 'LGPLv2+ and GPLv2+',
        purl: 'pkg:rpm/redhat/glibc@2.34-100.el9?arch=aarch64', locations: ['/var/lib/rpm/rpmdb.sqlite'], layer: 1 })],
      scope: 'squashed', distro: { id: 'rhel', versionId: '9.4', prettyName: 'Red Hat Enterprise Linux 9.4 (Plow)' },
      created: CREATED, toolVersion: '0.1.0',
    },
  },
  {
    // the image-layout spec's own example: ref.name is a tag, not a repository
    name: 'OCI layout whose ref.name is only a tag',
    input: {
      meta: meta({ name: 'stable-release', tags: ['stable-release'], digest: `sha256:${hex('f')}`, layers: 1, arch: 'amd64' }),
      packages: [], scope: 'squashed', distro: null, created: CREATED, toolVersion: '0.1.0',
    },
  },
];

export const SCOPES = ['squashed', 'all-layers'] as const;

/** Every case in both scopes, as `[label, input]` rows for test.each. */
export const SCOPED: [string, SbomInput][] = CASES.flatMap((c) =>
  SCOPES.map((scope): [string, SbomInput] => [`${c.name}, ${scope}`, { ...c.input, scope }]));

export const debian = (scope: SbomInput['scope'] = 'all-layers'): SbomInput => ({ ...CASES[0].input, scope });
