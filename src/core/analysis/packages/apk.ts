// Alpine (and Wolfi, Chainguard) packages: the apk database /lib/apk/db/installed, one record per
// package, records separated by a blank line, one "K:value" line per field.
import { CatalogError, type FileCataloger, type ParsedPackage } from './types.ts';
import { clip, decodeUtf8, splitLines } from './text.ts';

const INSTALLED = '/lib/apk/db/installed';

interface ApkRecord {
  line: number;
  fields: Map<string, string>;
}

/**
 * Every package the database lists. A record without P (name) or V (version), or a line that is
 * not "K:value", is a CatalogError naming its line; a missing final newline is fine (apk writes one,
 * but a file cut at a record boundary is still readable).
 */
export function parseApkInstalled(bytes: Uint8Array, _path = INSTALLED): ParsedPackage[] {
  const text = decodeUtf8(bytes);
  if (text.includes('\u0000')) throw new CatalogError('apk database: contains NUL bytes; it is not a text database (corrupt or not an apk database)');
  const records: ApkRecord[] = [];
  let cur: ApkRecord | null = null;
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      if (cur) records.push(cur);
      cur = null;
      continue;
    }
    if (line.length < 2 || line.charCodeAt(1) !== 58 /* : */) {
      throw new CatalogError(`apk database: line ${i + 1} is not a "K:value" field (${JSON.stringify(clip(line))}); the database may be corrupt`);
    }
    if (!cur) cur = { line: i + 1, fields: new Map() };
    const key = line[0];
    // per-file keys (F, R, a, M, Z) repeat; the package's own fields come before them
    if (!cur.fields.has(key)) cur.fields.set(key, line.slice(2));
  }
  if (cur) records.push(cur);
  return records.map(toPackage);
}

function toPackage(r: ApkRecord): ParsedPackage {
  const name = r.fields.get('P');
  const version = r.fields.get('V');
  if (!name) throw new CatalogError(`apk database: the record at line ${r.line} has no P: (package name) field`);
  if (!version) throw new CatalogError(`apk database: package ${name} (record at line ${r.line}) has no V: (version) field; the database may be truncated`);
  const pkg: ParsedPackage = {
    name,
    version,
    arch: r.fields.get('A') || null,
    license: r.fields.get('L') || null,
  };
  const origin = r.fields.get('o');
  if (origin && origin !== name) pkg.purl = { qualifiers: { upstream: origin } };
  return pkg;
}

export const apkCataloger: FileCataloger = {
  ecosystem: 'apk',
  label: 'apk database',
  match: (path) => path === INSTALLED,
  maxBytes: 64 * 1024 * 1024,
  parse: parseApkInstalled,
};
