// Debian packages: the dpkg status database (/var/lib/dpkg/status), distroless images' one file per
// package (/var/lib/dpkg/status.d/*), and licences from /usr/share/doc/<package>/copyright.
import { CatalogError, type FileCataloger, type ParsedPackage } from './types.ts';
import { BLANK, clip, CONTINUATION, deb822Line, decodeUtf8, first, NOT_A_FIELD, parseParagraphs, splitLines } from './text.ts';
import { isSpdxExceptionId, isSpdxExpression, isSpdxLicenseId } from './spdx.ts';

const STATUS = '/var/lib/dpkg/status';
const STATUS_D = '/var/lib/dpkg/status.d/';

const WANTS = new Set(['unknown', 'install', 'hold', 'deinstall', 'purge']);
const FLAGS = new Set(['ok', 'reinstreq']);
// dpkg counts the two trigger states as configured: the files are there and the package works.
const PRESENT = new Set(['installed', 'triggers-awaited', 'triggers-pending']);
const STATES = new Set([...PRESENT, 'not-installed', 'config-files', 'half-installed', 'unpacked', 'half-configured']);

export function dpkgStatusMatch(path: string): boolean {
  if (path === STATUS) return true;
  if (!path.startsWith(STATUS_D)) return false;
  const name = path.slice(STATUS_D.length);
  return name.length > 0 && !name.includes('/') && !name.endsWith('.md5sums') && !name.startsWith('.');
}

/**
 * The installed packages a status file lists. A stanza without `Status:` (distroless writes the
 * package's control file as is) counts as installed. A file in status.d that does not start with a
 * field is not a stanza file and yields nothing; in the status file itself it is an error.
 */
export function parseDpkgStatus(bytes: Uint8Array, path: string): ParsedPackage[] {
  const what = path === STATUS || !path.startsWith(STATUS_D) ? 'dpkg status' : `dpkg status file ${path}`;
  if (path.startsWith(STATUS_D) && !/^\s*[A-Za-z][A-Za-z0-9-]*:/.test(decodeUtf8(bytes.subarray(0, 256)))) return [];
  if (bytes.indexOf(0) >= 0) throw new CatalogError(`${what}: contains NUL bytes; it is not a text database (corrupt or not a dpkg status file)`);
  const out: ParsedPackage[] = [];
  scanStanzas(bytes, what, (block) => {
    const pkg = stanzaPackage(block, what);
    if (pkg) out.push(pkg);
  });
  return out;
}

interface Stanza {
  line: number;
  package?: string;
  status?: string;
  version?: string;
  architecture?: string;
  source?: string;
}

const WANTED = ['package', 'status', 'version', 'architecture', 'source'] as const;
const WANTED_BYTES = WANTED.map((w) => Array.from(w, (ch) => ch.charCodeAt(0)));

/** The wanted field whose name is bytes [from, to) in any letter case, or null. */
function wantedField(b: Uint8Array, from: number, to: number): (typeof WANTED)[number] | null {
  const len = to - from;
  for (let w = 0; w < WANTED.length; w++) {
    const name = WANTED_BYTES[w];
    if (name.length !== len) continue;
    let i = 0;
    while (i < len && (b[from + i] | 0x20) === name[i]) i++;
    if (i === len) return WANTED[w];
  }
  return null;
}

/** Bytes [from, to) as text, trimmed; plain ASCII (nearly every value) skips the decoder. */
function value(b: Uint8Array, from: number, to: number): string {
  while (from < to && (b[from] === 32 || b[from] === 9)) from++;
  while (to > from && (b[to - 1] === 32 || b[to - 1] === 9)) to--;
  // fromCharCode.apply takes its bytes as arguments: long values go through the decoder
  let ascii = to - from <= 1024;
  for (let i = from; i < to && ascii; i++) ascii = b[i] < 0x80;
  return ascii ? String.fromCharCode.apply(null, b.subarray(from, to) as unknown as number[]) : decodeUtf8(b.subarray(from, to));
}

/**
 * A status file is megabytes of mostly Description and Conffiles continuation lines: this scanner
 * walks the bytes once (no decoding of the whole file), keeps only the five fields a catalogue needs
 * and checks every other line's shape without building it.
 */
function scanStanzas(b: Uint8Array, what: string, emit: (s: Stanza) => void): void {
  let cur: Stanza | null = null;
  let line = 0;
  let pos = 0;
  const n = b.length;
  while (pos < n) {
    let end = b.indexOf(10, pos);
    if (end < 0) end = n;
    line++;
    let stop = end;
    if (stop > pos && b[stop - 1] === 13) stop--;
    const c = b[pos];
    let k = pos;
    if (c === 32 || c === 9) {
      k++;
      while (k < stop && (b[k] === 32 || b[k] === 9)) k++;
    }
    if (k === stop) {
      if (cur) emit(cur);
      cur = null;
    } else if (c === 32 || c === 9) {
      if (!cur) throw new CatalogError(`${what}: line ${line} is a continuation line with no field before it`);
    } else {
      let colon = pos;
      while (colon < stop && b[colon] !== 58 && b[colon] !== 32) colon++;
      if (colon === stop || b[colon] !== 58 || colon === pos) {
        throw new CatalogError(`${what}: line ${line} is not a "Field: value" line (${JSON.stringify(clip(decodeUtf8(b.subarray(pos, stop))))}); the file may be truncated or corrupt`);
      }
      if (!cur) cur = { line };
      const key = wantedField(b, pos, colon);
      if (key && cur[key] === undefined) cur[key] = value(b, colon + 1, stop);
    }
    pos = end + 1;
  }
  if (cur) emit(cur);
}

function stanzaPackage(block: Stanza, what: string): ParsedPackage | null {
  const name = block.package;
  if (!name) throw new CatalogError(`${what}: the stanza at line ${block.line} has no Package field`);
  const status = block.status;
  if (status !== undefined) {
    const words = status.split(/\s+/);
    if (words.length !== 3 || !WANTS.has(words[0]) || !FLAGS.has(words[1]) || !STATES.has(words[2])) {
      throw new CatalogError(`${what}: package ${name} (line ${block.line}) has an unknown Status ${JSON.stringify(clip(status))}; the file may be truncated or corrupt`);
    }
    if (!PRESENT.has(words[2])) return null;
  }
  const version = block.version;
  if (!version) throw new CatalogError(`${what}: installed package ${name} (line ${block.line}) has no Version field`);
  const pkg: ParsedPackage = { name, version, arch: block.architecture || null, license: null };
  const source = block.source;
  if (source) {
    const m = /^(\S+)(?:\s*\(([^)]*)\))?/.exec(source);
    if (m) {
      const upstream = m[2] ? `${m[1]}@${m[2].trim()}` : m[1];
      pkg.purl = { qualifiers: { upstream } };
    }
  }
  return pkg;
}

export const dpkgCataloger: FileCataloger = {
  ecosystem: 'deb',
  label: 'dpkg status',
  match: dpkgStatusMatch,
  maxBytes: 64 * 1024 * 1024,
  parse: parseDpkgStatus,
};

const COPYRIGHT = /^\/usr\/share\/doc\/([^/]+)\/copyright$/;

/** The package whose copyright file this is, for `/usr/share/doc/<name>/copyright`. */
export function debCopyrightMatch(path: string): string | null {
  const m = COPYRIGHT.exec(path);
  return m && m[1] !== '.' && m[1] !== '..' ? m[1] : null;
}

/**
 * The licence short names of a machine-readable (DEP-5) copyright file: the first line of the
 * `License:` field of every `Files:` paragraph, distinct, in order of appearance. null when the
 * file is not machine-readable (no `Format:` header naming the copyright format): prose is not
 * guessed from.
 */
export function debCopyrightLicenses(bytes: Uint8Array): string[] | null {
  const text = decodeUtf8(bytes);
  // the header paragraph must come first: a DEP-5 block after a prose preamble is not the format
  const opening = /^(?:[ \t]*(?:#.*)?\r?\n)*([^\r\n]*)/.exec(text)![1];
  if (!/^[^\s:#][^\s:]*:/.test(opening)) return null;
  // Paragraphs by parseParagraphs' line rules (deb822Line), keeping only what is asked: the
  // header's first Format value (with its continuation lines) and each paragraph's Files field
  // and the first line of its first License value — a copyright file is mostly licence texts,
  // which are skipped.
  const seen = new Set<string>();
  let paragraphs = 0; // with a field so far, this one included
  let inParagraph = false;
  let format: string | null = null;
  let formatOpen = false; // the header's first Format value takes continuation lines
  let files = false;
  let licence: string | null = null;
  const end = () => {
    if (inParagraph && files && licence) seen.add(licence);
    inParagraph = files = formatOpen = false;
    licence = null;
  };
  for (const line of splitLines(text)) {
    const colon = deb822Line(line);
    if (colon === BLANK) { end(); continue; }
    if (colon === CONTINUATION) {
      if (formatOpen) format += '\n' + line.trim();
      continue;
    }
    formatOpen = false;
    if (colon === NOT_A_FIELD) continue;
    if (!inParagraph) { inParagraph = true; paragraphs++; }
    const key = line.slice(0, colon).toLowerCase();
    if (key === 'files') files = true;
    else if (key === 'license' && licence === null) licence = line.slice(colon + 1).trim();
    else if (key === 'format' && paragraphs === 1 && format === null) { format = line.slice(colon + 1).trim(); formatOpen = true; }
  }
  end();
  if (!format || !/copyright-format|dep-?5/i.test(format)) return null;
  return [...seen];
}

/**
 * The licence of a Debian package as an SPDX expression, from its DEP-5 copyright file: the
 * licences of all `Files:` paragraphs joined with AND (each covers different files). Debian short
 * names that are clearly an SPDX licence are mapped (GPL-2+ → GPL-2.0-or-later, Expat → MIT, …);
 * any other name — public-domain, permissive, a "with … exception" SPDX does not list — becomes a
 * `LicenseRef-` of that name, so nothing is dropped and the result still parses as SPDX.
 * null for a file that is not machine-readable or names no licence.
 */
export function parseDebCopyright(bytes: Uint8Array): string | null {
  const names = debCopyrightLicenses(bytes);
  if (!names || names.length === 0) return null;
  const terms: string[] = [];
  for (const n of names) {
    const t = debianLicenseToSpdx(n);
    if (!t) continue;
    // "A and B" adds its parts to the AND list, so shared parts appear once
    const parts = t.includes('(') || t.includes(' OR ') ? [t] : t.split(' AND ');
    for (const p of parts) if (!terms.includes(p)) terms.push(p);
  }
  if (terms.length === 0) return null;
  if (terms.length === 1) return terms[0];
  return terms.map((t) => (t.includes(' OR ') && !t.startsWith('(') ? `(${t})` : t)).join(' AND ');
}

// Debian short names (copyright-format 1.0, "License specification") that are the same licence
// as an SPDX id. Keys lower-cased. Names whose SPDX counterpart is ambiguous (Artistic, BSD,
// GPL without a version, MPL without one) are left to LicenseRef.
const DEBIAN_TO_SPDX: Record<string, string> = {
  'expat': 'MIT', 'mit': 'MIT',
  'bsd-2-clause': 'BSD-2-Clause', 'bsd-3-clause': 'BSD-3-Clause', 'bsd-4-clause': 'BSD-4-Clause',
  'isc': 'ISC', 'zlib': 'Zlib', 'apache-2.0': 'Apache-2.0', 'apache-1.1': 'Apache-1.1', 'apache-1.0': 'Apache-1.0',
  'mpl-1.1': 'MPL-1.1', 'mpl-2.0': 'MPL-2.0', 'cc0-1.0': 'CC0-1.0', 'cc0': 'CC0-1.0',
  'python-2.0': 'Python-2.0', 'psf-2': 'PSF-2.0', 'zpl-2.1': 'ZPL-2.1', 'ofl-1.1': 'OFL-1.1',
  'openssl': 'OpenSSL', 'ssleay': 'SSLeay-standalone', 'curl': 'curl', 'unicode-dfs-2016': 'Unicode-DFS-2016',
  'x11': 'X11', 'ftl': 'FTL', 'wtfpl': 'WTFPL', 'unlicense': 'Unlicense', 'bsl-1.0': 'BSL-1.0', 'boost-1.0': 'BSL-1.0',
  'epl-1.0': 'EPL-1.0', 'epl-2.0': 'EPL-2.0', 'cddl-1.0': 'CDDL-1.0', 'cc-by-3.0': 'CC-BY-3.0', 'cc-by-4.0': 'CC-BY-4.0',
  'cc-by-sa-3.0': 'CC-BY-SA-3.0', 'cc-by-sa-4.0': 'CC-BY-SA-4.0', 'gpl-2.0-only': 'GPL-2.0-only',
};
const GNU_FAMILIES = new Set(['gpl', 'lgpl', 'agpl', 'gfdl']);

function mapName(name: string): string | null {
  const lower = name.toLowerCase();
  if (DEBIAN_TO_SPDX[lower]) return DEBIAN_TO_SPDX[lower];
  // GNU licences: GPL-2, GPL-2+, GPL-2.0+, LGPL-2.1+, GFDL-1.3+ …; LGPL-2 is the "Library" GPL 2.0.
  const m = /^(gpl|lgpl|agpl|gfdl)-(\d)(?:\.(\d))?(\+?)$/.exec(lower);
  if (m && GNU_FAMILIES.has(m[1])) {
    const id = `${m[1].toUpperCase()}-${m[2]}.${m[3] ?? '0'}${m[4] ? '-or-later' : '-only'}`;
    return isSpdxLicenseId(id) ? id : null;
  }
  return isSpdxLicenseId(name) ? name : null;
}

function licenseRef(text: string): string {
  return 'LicenseRef-' + text.trim().replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * One Debian licence field's first line to SPDX: "GPL-2+ or Artistic", "BSD-3-clause and Expat",
 * "GPL-2+ with OpenSSL exception". A comma before the word ("A or B, and C") binds loosest, as
 * copyright-format 1.0 says, so such groups are parenthesised.
 */
export function debianLicenseToSpdx(field: string): string | null {
  const text = field.trim();
  if (!text) return null;
  const groups = text.split(/\s*,\s*(and|or)\s+/i);
  const out: string[] = [];
  for (let g = 0; g < groups.length; g++) {
    if (g % 2 === 1) {
      out.push(groups[g].toUpperCase());
      continue;
    }
    const parts = groups[g].split(/\s+(and|or)\s+/i);
    const expr = parts.map((p, i) => (i % 2 === 1 ? p.toUpperCase() : termToSpdx(p))).join(' ');
    out.push(parts.length > 1 && groups.length > 1 ? `(${expr})` : expr);
  }
  const expr = out.join(' ');
  if (isSpdxExpression(expr)) return expr;
  // a field this reading does not cover ("GPL-2+ or", odd punctuation) stays one named licence
  const ref = licenseRef(text);
  return isSpdxExpression(ref) ? ref : null;
}

function termToSpdx(term: string): string {
  const w = /^(\S+)\s+with\s+(.+?)\s+exception$/i.exec(term);
  if (w) {
    const lic = mapName(w[1]);
    const exc = w[2].trim();
    if (lic && isSpdxExceptionId(exc)) return `${lic} WITH ${exc}`;
    return licenseRef(term);
  }
  return mapName(term) ?? licenseRef(term);
}
