// os-release(5): this machine's file, other distributions' files, quoting and escapes.
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { osReleaseMatch, parseOsRelease } from '../../../../src/core/analysis/packages/os-release.ts';
import { enc, fixture, has, run } from './helpers.ts';

test.each([
  ['os-release/debian-12', { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }],
  ['os-release/alpine-3.20', { id: 'alpine', versionId: '3.20.1', prettyName: 'Alpine Linux v3.20' }],
  ['os-release/ubi-9', { id: 'rhel', versionId: '9.4', prettyName: 'Red Hat Enterprise Linux 9.4 (Plow)' }],
])('%s', (file, want) => {
  expect(parseOsRelease(fixture(file))).toEqual(want);
});

// the shell is the reference for quoting: source the file and print the three variables
test.skipIf(!has('sh') || !existsSync('/etc/os-release'))('this machine’s /etc/os-release as the shell reads it', () => {
  const [id, versionId, prettyName] = run('sh', ['-c', '. /etc/os-release; printf "%s\\n%s\\n%s" "$ID" "$VERSION_ID" "$PRETTY_NAME"']).split('\n');
  expect(parseOsRelease(new Uint8Array(readFileSync('/etc/os-release')))).toEqual({ id, versionId: versionId || null, prettyName: prettyName || null });
});

test.each<[string, string, { id: string; versionId: string | null; prettyName: string | null } | null]>([
  ['double quotes with escapes', 'ID=x\nPRETTY_NAME="A \\"quoted\\" \\$name \\\\ and \\`tick\\`"\n', { id: 'x', versionId: null, prettyName: 'A "quoted" $name \\ and `tick`' }],
  ['single quotes are literal', "ID='my-os'\nPRETTY_NAME='a \\n b'\n", { id: 'my-os', versionId: null, prettyName: 'a \\n b' }],
  ['comments and blank lines', '# a comment\n\nID=x  # trailing comment\nVERSION_ID=1\n', { id: 'x', versionId: '1', prettyName: null }],
  ['CRLF', 'ID=x\r\nVERSION_ID="2.0"\r\n', { id: 'x', versionId: '2.0', prettyName: null }],
  ['no ID: "linux", as the spec says', 'NAME=Something\n', { id: 'linux', versionId: null, prettyName: null }],
  ['an unterminated quote is ignored', 'ID=x\nPRETTY_NAME="never closed\n', { id: 'x', versionId: null, prettyName: null }],
  ['lines that are not assignments are ignored', 'ID=x\nexport FOO\n= bad\n', { id: 'x', versionId: null, prettyName: null }],
  ['nothing assigned', '# only a comment\n', null],
  ['binary garbage', '\u0000\u0001\u0002', null],
])('%s', (_name, text, want) => {
  expect(parseOsRelease(enc(text))).toEqual(want);
});

test.each([
  ['/etc/os-release', true],
  ['/usr/lib/os-release', true],
  ['/etc/lsb-release', false],
  ['/etc/alpine-release', false],
])('match %s → %s', (path, want) => {
  expect(osReleaseMatch(path)).toBe(want);
});
