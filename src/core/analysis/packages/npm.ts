// Installed npm packages: the package.json at the top of every package directory in node_modules
// (nested and scoped ones, global /usr/lib/node_modules included), and an application's own
// package.json elsewhere when it names itself and a version.
import { CatalogError, type FileCataloger, type ParsedPackage } from './types.ts';
import { clip, decodeUtf8 } from './text.ts';

/**
 * `…/node_modules/<name>/package.json` and `…/node_modules/@scope/<name>/package.json`, not the
 * package.json files a package carries deeper inside (lib/package.json marking ESM and the like).
 * Any package.json outside every node_modules directory is also asked for: it is an application
 * or a distribution's packaged module (/usr/share/nodejs/<name>) and counts when it has a name and
 * a version, as syft does.
 */
export function npmPackageJsonMatch(path: string): boolean {
  if (!path.endsWith('/package.json')) return false;
  const parts = path.split('/');
  const nm = parts.lastIndexOf('node_modules');
  if (nm < 0) return true;
  const rest = parts.slice(nm + 1, -1);
  if (rest.length === 1) return isPackageDir(rest[0]) && !rest[0].startsWith('@');
  if (rest.length === 2) return rest[0].length > 1 && rest[0].startsWith('@') && isPackageDir(rest[1]);
  return false;
}

function isPackageDir(name: string): boolean {
  return name.length > 0 && !name.startsWith('.');
}

function inNodeModules(path: string): boolean {
  return path.split('/').includes('node_modules');
}

export function parseNpmPackageJson(bytes: Uint8Array, path: string): ParsedPackage[] {
  const installed = inNodeModules(path);
  let doc: unknown;
  try {
    doc = JSON.parse(decodeUtf8(bytes));
  } catch (e) {
    throw new CatalogError(`package.json is not valid JSON (${clip((e as Error).message, 80)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new CatalogError('package.json is not a JSON object');
  }
  const { name, version } = doc as { name?: unknown; version?: unknown };
  const hasName = typeof name === 'string' && name.trim() !== '';
  const hasVersion = typeof version === 'string' && version.trim() !== '';
  if (!installed && (!hasName || !hasVersion)) return [];
  if (!hasName) throw new CatalogError('package.json of an installed package has no "name"; the package directory is damaged');
  if (!hasVersion) {
    throw new CatalogError(`package.json of installed package ${name} has no "version" (npm always writes one): the package was not installed by a package manager or is damaged`);
  }
  const pkg: ParsedPackage = { name: name.trim(), version: version.trim(), arch: null, license: npmLicense(doc) };
  const slash = pkg.name.indexOf('/');
  if (pkg.name.startsWith('@') && slash > 1) {
    pkg.purl = { namespace: pkg.name.slice(0, slash), name: pkg.name.slice(slash + 1) };
  }
  return [pkg];
}

/**
 * `license` as a string (SPDX expression by npm's rules) or as the old `{ type }` object; the
 * older still `licenses: [{ type }]` array lists alternatives, so several become an OR.
 */
export function npmLicense(doc: object): string | null {
  const { license, licenses } = doc as { license?: unknown; licenses?: unknown };
  const one = licenseName(license);
  if (one) return one;
  if (Array.isArray(licenses)) {
    const names = [...new Set(licenses.map(licenseName).filter((n): n is string => !!n))];
    if (names.length === 1) return names[0];
    if (names.length > 1) return names.map((n) => (/\s/.test(n) ? `(${n})` : n)).join(' OR ');
  }
  return null;
}

function licenseName(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'object' && v !== null) {
    const t = (v as { type?: unknown }).type;
    if (typeof t === 'string') return t.trim() || null;
  }
  return null;
}

export const npmCataloger: FileCataloger = {
  ecosystem: 'npm',
  label: 'npm package.json',
  match: npmPackageJsonMatch,
  maxBytes: 8 * 1024 * 1024,
  parse: parseNpmPackageJson,
};
