// References as docker and skopeo read them: every short form, hosts, ports, digests, schemes.
import { describe, expect, test } from 'vitest';
import { formatReference, isLoopback, parseReference, shortReference } from '../../../src/core/registry/reference.ts';
import { StrataError } from '../../../src/core/errors.ts';

const D = 'sha256:' + 'a'.repeat(64);

describe('parseReference', () => {
  test.each([
    // Docker Hub short forms
    ['alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest', endpoint: 'https://registry-1.docker.io' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['library/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['user/repo', { registry: 'docker.io', repository: 'user/repo', tag: 'latest' }],
    ['user/repo:v1.2_3-rc', { registry: 'docker.io', repository: 'user/repo', tag: 'v1.2_3-rc' }],
    ['docker.io/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['index.docker.io/library/alpine:edge', { registry: 'docker.io', repository: 'library/alpine', tag: 'edge' }],
    ['registry-1.docker.io/user/repo', { registry: 'docker.io', repository: 'user/repo', endpoint: 'https://registry-1.docker.io' }],
    [`alpine@${D}`, { registry: 'docker.io', repository: 'library/alpine', digest: D }],
    [`alpine:3.20@${D}`, { repository: 'library/alpine', tag: '3.20', digest: D }],
    // other registries
    ['ghcr.io/owner/app:v1', { registry: 'ghcr.io', repository: 'owner/app', tag: 'v1', scheme: 'https', endpoint: 'https://ghcr.io' }],
    ['quay.io/a/b/c/d', { registry: 'quay.io', repository: 'a/b/c/d', tag: 'latest' }],
    ['Registry.Example.COM/team/app', { registry: 'registry.example.com', repository: 'team/app' }],
    ['registry.example.com:8443/team/app:1', { registry: 'registry.example.com:8443', repository: 'team/app', endpoint: 'https://registry.example.com:8443' }],
    ['myhost:5000/app', { registry: 'myhost:5000', repository: 'app', scheme: 'https' }],
    // loopback is plain http, as docker treats it as an insecure registry
    ['localhost/app', { registry: 'localhost', repository: 'app', scheme: 'http', endpoint: 'http://localhost' }],
    ['localhost:5000/app:v1', { registry: 'localhost:5000', scheme: 'http', endpoint: 'http://localhost:5000' }],
    ['127.0.0.1:5000/a/b', { registry: '127.0.0.1:5000', repository: 'a/b', scheme: 'http' }],
    ['127.1.2.3:5000/a', { scheme: 'http' }],
    ['[::1]:5000/app', { registry: '[::1]:5000', scheme: 'http', endpoint: 'http://[::1]:5000' }],
    // schemes: docker:// is skopeo's prefix; http:// and https:// force the scheme
    ['docker://alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['http://registry.lan:5000/app', { registry: 'registry.lan:5000', scheme: 'http', endpoint: 'http://registry.lan:5000' }],
    ['https://localhost:5000/app', { scheme: 'https', endpoint: 'https://localhost:5000' }],
    ['  alpine  ', { repository: 'library/alpine' }],
    ['a__b/c-d.e--f', { repository: 'a__b/c-d.e--f' }],
  ])('%s', (input, want) => {
    expect(parseReference(input)).toMatchObject(want);
  });

  test.each([
    ['', /it is empty/],
    ['docker://', /it is empty/],
    ['Alpine', /repository names are lower case/],
    ['alpine:', /"" is not a tag/],
    ['alpine:-x', /"-x" is not a tag/],
    ['alpine:' + 'x'.repeat(129), /is not a tag/],
    ['alp ine', /white space/],
    ['alpine@sha256:abc', /"sha256:abc" is not a digest/],
    [`alpine@sha256:${'A'.repeat(64)}`, /a sha256 digest is 64 lower-case hex digits/],
    ['host.com/', /names no repository/],
    ['host.com/UPPER', /repository names are lower case/],
    ['host.com/a//b', /is not a repository name/],
    ['host.com/a_/b', /is not a repository name/],
    ['bad_host.com:5000/app', /is not a host name\[:port\]/],
    ['http://alpine', /http:\/\/ needs a registry host/],
    ['host.com/' + 'a'.repeat(256), /longer than 255/],
  ])('%j is refused', (input, why) => {
    let err: unknown;
    try { parseReference(input); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(StrataError);
    expect((err as StrataError).code).toBe('BAD_REFERENCE');
    expect((err as StrataError).message).toMatch(why);
    expect((err as StrataError).message).toMatch(/Expected \[host\[:port\]\/\]repository\[:tag\]\[@sha256:…\]/);
  });
});

test('a digest alone: no tag is assumed', () => {
  expect(parseReference(`alpine@${D}`).tag).toBeUndefined();
});

test.each([
  ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
  ['user/repo:1', 'docker.io/user/repo:1', 'user/repo:1'],
  [`127.0.0.1:5000/a@${D}`, `127.0.0.1:5000/a@${D}`, `127.0.0.1:5000/a@${D}`],
  ['http://registry.lan/a:b', 'http://registry.lan/a:b', 'http://registry.lan/a:b'],
])('formatReference(%s) = %s, shortReference = %s', (input, full, short) => {
  const r = parseReference(input);
  expect(formatReference(r)).toBe(full);
  expect(shortReference(r)).toBe(short);
  // the full form reads back as the same reference
  expect(parseReference(formatReference(r))).toEqual(r);
});

test.each([
  ['localhost', true], ['localhost:5000', true], ['127.0.0.1', true], ['127.255.0.9:1', true], ['[::1]:5000', true],
  ['128.0.0.1', false], ['localhost.example.com', false], ['10.0.0.1:5000', false], ['[::2]', false],
])('isLoopback(%s) = %s', (host, want) => {
  expect(isLoopback(host)).toBe(want);
});
