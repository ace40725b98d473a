// In CI (CI_REQUIRE_TOOLS=1, set by .ci/run) every tool a test compares against must be there:
// tests that skip themselves on a machine without one must not pass silently in CI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, test } from 'vitest';

const required = process.env.CI_REQUIRE_TOOLS === '1';
const ok = (cmd: string, args: string[] = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

test.runIf(required).each([
  ['dpkg-query', () => ok('dpkg-query', ['-W', 'dpkg']) && existsSync('/var/lib/dpkg/status')],
  ['python3', () => ok('python3')],
  ['python-debian for /usr/bin/python3', () => ok('/usr/bin/python3', ['-c', 'import debian.copyright'])],
  ['go (go version -m)', () => ok('go', ['version'])],
  ['rpm', () => ok('rpm')],
  ['zstd', () => ok('zstd')],
  ['GNU tar', () => ok('tar')],
  // written images (test/cli/write-image.test.ts) are loaded by these
  ['skopeo', () => ok('skopeo')],
  ['umoci', () => ok('umoci')],
  ['podman', () => ok('podman')],
  ['root (umoci unpack keeps numeric owners, devices and xattrs only as root)', () => process.getuid?.() === 0],
  // registries (test/cli/registry.test.ts, test/browser/registry.test.ts): Debian's distribution
  // registry, htpasswd for its basic auth, openssl for the token server's certificate
  ['docker-registry (apt-get install -y docker-registry)', () => existsSync('/usr/bin/docker-registry')],
  ['htpasswd (apt-get install -y apache2-utils)', () => spawnSync('htpasswd', ['-nbB', 'u', 'p'], { stdio: 'ignore' }).status === 0],
  ['openssl', () => ok('openssl', ['version'])],
  ['chromium', () => existsSync('/usr/bin/chromium')],
])('%s is installed', (_name, check) => {
  expect(check()).toBe(true);
});
