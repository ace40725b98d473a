// Python distributions installed anywhere: `*.dist-info/METADATA` (wheels, pip), `*.egg-info/PKG-INFO`
// (setuptools) and a `*.egg-info` that is itself the metadata file (distutils; Debian ships these).
import { CatalogError, type FileCataloger, type ParsedPackage } from './types.ts';
import { decodeUtf8, splitLines } from './text.ts';

const METADATA = /\/[^/]+\.dist-info\/METADATA$/;
const PKG_INFO = /\/[^/]+\.egg-info\/PKG-INFO$/;
const EGG_INFO_FILE = /\/[^/]+\.egg-info$/;

/**
 * Whether a path is Python package metadata. `*.egg-info` is matched as a path: the driver asks
 * only about regular files, so an egg-info directory never reaches `parse`.
 */
export function pythonMetadataMatch(path: string): boolean {
  // the suffix first: each regex tries every position of every path in the image
  return (path.endsWith('/METADATA') && METADATA.test(path)) || (path.endsWith('/PKG-INFO') && PKG_INFO.test(path))
    || (path.endsWith('.egg-info') && EGG_INFO_FILE.test(path));
}

/** PEP 503 normalised name: lower case, runs of "-", "_", "." become one "-" (the purl name). */
export function pep503Name(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/**
 * The header of a core-metadata file, read as Python's email parser reads it (importlib.metadata
 * uses that parser): fields until the first blank line or the first line that is not a field;
 * continuation lines join their field with "\n".
 */
export function parseCoreMetadataHeaders(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const line of splitLines(text)) {
    // only an empty line ends the header: one of blanks continues the field above (distutils
    // indents the empty lines of a Description that way)
    if (line === '') break;
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      if (last) last[last.length - 1] += '\n' + line.trim();
      continue;
    }
    const m = /^([\x21-\x39\x3b-\x7e]+):[ \t]?(.*)$/.exec(line);
    if (!m) break;
    const key = m[1].toLowerCase();
    let values = fields.get(key);
    if (!values) fields.set(key, (values = []));
    values.push(m[2].trim());
    last = values;
  }
  return fields;
}

export function parsePythonMetadata(bytes: Uint8Array, path: string): ParsedPackage[] {
  const fields = parseCoreMetadataHeaders(decodeUtf8(bytes));
  const name = fields.get('name')?.[0];
  const version = fields.get('version')?.[0];
  const file = path.slice(path.lastIndexOf('/') + 1);
  if (!name) throw new CatalogError(`python metadata (${file}): no Name field; the file is not core metadata or is damaged`);
  if (!version) throw new CatalogError(`python metadata (${file}): ${name} has no Version field`);
  return [{ name, version, arch: null, license: pythonLicense(fields) }];
}

/**
 * License-Expression (core metadata 2.4) wins; then a short one-line License field; then the
 * `License ::` classifiers. Classifiers that name one SPDX licence map to it; several are a choice
 * more often than not (dual licensing), so all-SPDX ones are joined with OR, anything else is
 * listed as given, comma-separated. A License field holding a whole licence text is not a name and
 * is not returned.
 */
export function pythonLicense(fields: Map<string, string[]>): string | null {
  const expr = fields.get('license-expression')?.[0];
  if (expr) return expr;
  const lic = fields.get('license')?.[0];
  if (lic && !lic.includes('\n') && lic.length <= 100 && !/^unknown$/i.test(lic)) return lic;
  const names: string[] = [];
  for (const c of fields.get('classifier') ?? []) {
    const parts = c.split('::').map((p) => p.trim());
    if (parts[0] !== 'License' || parts.length < 2) continue;
    const last = parts[parts.length - 1];
    if (last === 'OSI Approved' || names.includes(last)) continue;
    names.push(last);
  }
  if (names.length === 0) return null;
  const spdx = names.map((n) => CLASSIFIER_TO_SPDX[n]);
  if (spdx.every(Boolean)) return [...new Set(spdx)].join(' OR ');
  return names.join(', ');
}

const CLASSIFIER_TO_SPDX: Record<string, string> = {
  'MIT License': 'MIT',
  'MIT No Attribution License (MIT-0)': 'MIT-0',
  'ISC License (ISCL)': 'ISC',
  'Python Software Foundation License': 'PSF-2.0',
  'Mozilla Public License 1.1 (MPL 1.1)': 'MPL-1.1',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'GNU Affero General Public License v3': 'AGPL-3.0-only',
  'GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'The Unlicense (Unlicense)': 'Unlicense',
  'Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
  'zlib/libpng License': 'Zlib',
  'CC0 1.0 Universal (CC0 1.0) Public Domain Dedication': 'CC0-1.0',
};

export const pythonCataloger: FileCataloger = {
  ecosystem: 'pypi',
  label: 'python package metadata',
  match: pythonMetadataMatch,
  maxBytes: 16 * 1024 * 1024,
  parse: parsePythonMetadata,
};
