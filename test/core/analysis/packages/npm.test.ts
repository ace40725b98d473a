// npm: the package.json files of a real `npm install` (test/fixtures/packages/npm/make.sh) against
// npm's own answers recorded with it — its hidden lockfile (path → version) and `npm ls --all`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';
import { npmCataloger, parseNpmPackageJson } from '../../../../src/core/analysis/packages/npm.ts';
import { purlFor } from '../../../../src/core/analysis/packages/purl.ts';
import type { ParsedPackage } from '../../../../src/core/analysis/packages/types.ts';
import { bestTime, enc, expectCatalogError, FIXTURES } from './helpers.ts';

const APP = join(FIXTURES, 'npm/app');
const ROOT = '/srv/app';
const files = (readdirSync(APP, { recursive: true }) as string[]).filter((f) => f === 'package.json' || f.endsWith('/package.json')).sort();
const image = files.map((f) => ({ path: `${ROOT}/${f}`, bytes: new Uint8Array(readFileSync(join(APP, f))) }));
const found = new Map<string, ParsedPackage>();
for (const f of image) if (npmCataloger.match(f.path)) for (const p of npmCataloger.parse(f.bytes, f.path)) found.set(f.path, p);

test('every installed package, at its path, with the version npm recorded there', () => {
  const lock = JSON.parse(readFileSync(join(APP, 'node_modules/.package-lock.json'), 'utf8')) as { name: string; version: string; packages: Record<string, { version: string; name?: string }> };
  const rootPkg = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8'));
  const want = new Map<string, string>([[`${ROOT}/package.json`, `${rootPkg.name}@${rootPkg.version}`]]);
  for (const [key, entry] of Object.entries(lock.packages)) {
    want.set(`${ROOT}/${key}/package.json`, `${entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 13)}@${entry.version}`);
  }
  expect(want.size).toBeGreaterThan(70);
  expect(new Map([...found].map(([path, p]) => [path, `${p.name}@${p.version}`]))).toEqual(want);
});

test('the same set of name@version as npm ls --all', () => {
  type Node = { name?: string; version: string; dependencies?: Record<string, Node> };
  const tree = JSON.parse(readFileSync(join(FIXTURES, 'npm/npm-ls.json'), 'utf8')) as Node;
  const want = new Set<string>([`${tree.name}@${tree.version}`]);
  const walk = (deps: Record<string, Node> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      want.add(`${name}@${node.version}`);
      walk(node.dependencies);
    }
  };
  walk(tree.dependencies);
  expect(new Set([...found.values()].map((p) => `${p.name}@${p.version}`))).toEqual(want);
});

test('nested copies (send’s own ms) and scoped packages come out as npm has them', () => {
  const at = (rel: string) => found.get(`${ROOT}/${rel}/package.json`);
  expect(at('node_modules/ms')?.version).toBe('2.0.0');
  expect(at('node_modules/send/node_modules/ms')?.version).toBe('2.1.3');
  const scoped = at('node_modules/@babel/code-frame')!;
  expect(scoped).toMatchObject({ name: '@babel/code-frame', version: '7.26.2', license: 'MIT', purl: { namespace: '@babel', name: 'code-frame' } });
  expect(purlFor('npm', scoped, { distro: null })).toBe('pkg:npm/%40babel/code-frame@7.26.2');
});

test('package.json files a package carries inside itself are not asked for', () => {
  const inner = image.filter((f) => !npmCataloger.match(f.path)).map((f) => relative(ROOT, f.path));
  expect(inner).toEqual(['node_modules/tslib/modules/package.json']);
});

test('thousands of package.json files parse quickly', () => {
  const many = Array.from({ length: 40 }, () => image.filter((f) => npmCataloger.match(f.path))).flat();
  const ms = bestTime(() => {
    for (const f of many) parseNpmPackageJson(f.bytes, f.path);
  });
  console.log(`npm: ${many.length} package.json files in ${ms.toFixed(1)} ms`);
  expect(ms).toBeLessThan(500);
});

const NM = '/app/node_modules/pkg/package.json';
test.each<[string, string, string, Partial<ParsedPackage>[]]>([
  ['license string', NM, '{"name":"pkg","version":"1.0.0","license":"MIT"}', [{ name: 'pkg', version: '1.0.0', license: 'MIT' }]],
  ['license object {type}', NM, '{"name":"pkg","version":"1.0.0","license":{"type":"ISC","url":"x"}}', [{ license: 'ISC' }]],
  ['legacy licenses array of two is a choice', NM, '{"name":"pkg","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}', [{ license: 'MIT OR Apache-2.0' }]],
  ['legacy licenses array of one', NM, '{"name":"pkg","version":"1.0.0","licenses":[{"type":"BSD"}]}', [{ license: 'BSD' }]],
  ['licenses with an expression inside', NM, '{"name":"pkg","version":"1.0.0","licenses":["MIT", "GPL-2.0 OR BSD"]}', [{ license: 'MIT OR (GPL-2.0 OR BSD)' }]],
  ['no licence', NM, '{"name":"pkg","version":"1.0.0"}', [{ license: null }]],
  ['UTF-8 BOM and CRLF', NM, '\ufeff{\r\n"name": "pkg",\r\n"version": "2.0.0"\r\n}\r\n', [{ version: '2.0.0' }]],
  ['scoped', '/app/node_modules/@types/node/package.json', '{"name":"@types/node","version":"20.0.0"}', [{ name: '@types/node', purl: { namespace: '@types', name: 'node' } }]],
  ['an application with name and version counts', '/srv/app/package.json', '{"name":"my-app","version":"0.1.0","private":true}', [{ name: 'my-app', version: '0.1.0' }]],
  ['an application without a version does not', '/srv/app/package.json', '{"name":"my-app","private":true}', []],
  ['a package.json without a name outside node_modules does not', '/usr/share/nodejs/x/lib/package.json', '{"type":"module"}', []],
  ['a global package', '/usr/local/lib/node_modules/npm/package.json', '{"name":"npm","version":"10.8.2","license":"Artistic-2.0"}', [{ name: 'npm', license: 'Artistic-2.0' }]],
])('%s', (_name, path, json, want) => {
  expect(npmCataloger.match(path)).toBe(true);
  const got = parseNpmPackageJson(enc(json), path);
  expect(got).toHaveLength(want.length);
  want.forEach((w, i) => expect(got[i]).toMatchObject(w));
});

test.each<[string, string, string, RegExp]>([
  ['invalid JSON', NM, '{"name":"pkg",', /package\.json is not valid JSON \(/],
  ['invalid JSON outside node_modules too', '/srv/app/package.json', '{name: pkg}', /not valid JSON/],
  ['not an object', NM, '["pkg","1.0.0"]', /package\.json is not a JSON object/],
  ['JSON null', NM, 'null', /not a JSON object/],
  ['no name in node_modules', NM, '{"version":"1.0.0"}', /installed package has no "name"/],
  ['no version in node_modules', NM, '{"name":"pkg"}', /installed package pkg has no "version" \(npm always writes one\)/],
  ['a version that is not a string', NM, '{"name":"pkg","version":1}', /installed package pkg has no "version"/],
  ['binary garbage', NM, '\u0000\u0001\u0002', /not valid JSON/],
])('broken: %s', (_name, path, json, message) => {
  expectCatalogError(() => parseNpmPackageJson(enc(json), path), message);
});

test.each([
  ['/app/node_modules/express/package.json', true],
  ['/app/node_modules/@babel/core/package.json', true],
  ['/app/node_modules/send/node_modules/ms/package.json', true],
  ['/app/node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json', true],
  ['/usr/lib/node_modules/npm/package.json', true],
  ['/usr/local/lib/node_modules/corepack/package.json', true],
  ['/app/package.json', true],
  ['/app/node_modules/tslib/modules/package.json', false],
  ['/app/node_modules/foo/lib/package.json', false],
  ['/app/node_modules/@babel/package.json', false],
  ['/app/node_modules/@babel/core/lib/package.json', false],
  ['/app/node_modules/.bin/package.json', false],
  ['/app/node_modules/package.json', false],
  ['/app/node_modules/foo/package.json.bak', false],
  ['/app/node_modules/foo/bower.json', false],
])('match %s → %s', (path, want) => {
  expect(npmCataloger.match(path)).toBe(want);
});
