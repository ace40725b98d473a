// RPM packages from the rpm database in its SQLite form (rpm ≥ 4.16: Fedora ≥ 33, RHEL/UBI ≥ 9,
// openSUSE): every row of the Packages table is one package's header blob. The BerkeleyDB
// `Packages` file (RHEL ≤ 8, CentOS 7) and SUSE's ndb `Packages.db` are not read.
import { CatalogError, type FileCataloger, type ParsedPackage } from './types.ts';
import { SqliteReader } from './sqlite.ts';

export const RPMDB_SQLITE_PATHS = ['/var/lib/rpm/rpmdb.sqlite', '/usr/lib/sysimage/rpm/rpmdb.sqlite'] as const;

const TAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, LICENSE: 1014, ARCH: 1022, SOURCERPM: 1044 } as const;
const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;
// rpm's own limits (rpm/lib/header_internal.h): more would be a corrupt header
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;
const HEADER_MAGIC = [0x8e, 0xad, 0xe8];

export interface RpmHeader {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string | null;
  license: string | null;
  sourceRpm: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * The tags a catalogue needs from one header blob as rpmdb stores it: index count and data size
 * (big-endian u32 each), the 16-byte index entries (tag, type, offset, count), then the data.
 * `what` names the header in errors.
 */
export function parseRpmHeader(blob: Uint8Array, what = 'rpm header'): RpmHeader {
  const fail = (msg: string): never => {
    throw new CatalogError(`${what}: ${msg}`);
  };
  let b = blob;
  // a header with its lead magic (as in a .rpm file) is accepted too
  if (b.length >= 8 && b[0] === HEADER_MAGIC[0] && b[1] === HEADER_MAGIC[1] && b[2] === HEADER_MAGIC[2]) b = b.subarray(8);
  if (b.length < 8) fail(`header blob is ${b.length} bytes, too short for its 8-byte preamble`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const il = dv.getUint32(0);
  const dl = dv.getUint32(4);
  if (il < 1 || il > MAX_TAGS) fail(`header blob claims ${il} index entries; it is corrupt`);
  if (dl > MAX_DATA) fail(`header blob claims ${dl} bytes of data; it is corrupt`);
  const ds = 8 + il * 16;
  if (ds + dl > b.length) fail(`header blob is truncated: ${il} entries and ${dl} data bytes need ${ds + dl} bytes, it has ${b.length}`);
  const data = b.subarray(ds, ds + dl);
  const entries = new Map<number, { type: number; offset: number; count: number }>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = dv.getUint32(at);
    const type = dv.getUint32(at + 4);
    const offset = dv.getUint32(at + 8);
    const count = dv.getUint32(at + 12);
    if (offset > dl) fail(`index entry ${i} (tag ${tag}) points at data offset ${offset}, past the ${dl}-byte data store`);
    if (!entries.has(tag)) entries.set(tag, { type, offset, count });
  }
  const str = (tag: number): string | null => {
    const e = entries.get(tag);
    if (!e) return null;
    if (e.type !== TYPE_STRING && e.type !== TYPE_STRING_ARRAY && e.type !== TYPE_I18NSTRING) fail(`tag ${tag} has type ${e.type}, not a string`);
    const end = data.indexOf(0, e.offset);
    if (end < 0) fail(`the string of tag ${tag} has no terminating NUL inside the data store (truncated?)`);
    return utf8.decode(data.subarray(e.offset, end));
  };
  const name = str(TAG.NAME);
  const version = str(TAG.VERSION);
  const release = str(TAG.RELEASE);
  if (!name) fail('no NAME tag');
  if (version === null) fail(`package ${name} has no VERSION tag`);
  if (release === null) fail(`package ${name} has no RELEASE tag`);
  let epoch: number | null = null;
  const ep = entries.get(TAG.EPOCH);
  if (ep) {
    if (ep.type !== TYPE_INT32 || ep.count < 1) fail(`package ${name}: EPOCH has type ${ep.type}, not INT32`);
    if (ep.offset + 4 > dl) fail(`package ${name}: EPOCH lies past the data store`);
    epoch = new DataView(data.buffer, data.byteOffset, data.byteLength).getInt32(ep.offset);
  }
  return { name: name!, version: version!, release: release!, epoch, arch: str(TAG.ARCH), license: str(TAG.LICENSE), sourceRpm: str(TAG.SOURCERPM) };
}

/** "[epoch:]version-release", as rpm -q --qf '%{EVR}' writes it */
export function rpmVersion(h: RpmHeader): string {
  return `${h.epoch !== null ? `${h.epoch}:` : ''}${h.version}-${h.release}`;
}

/**
 * Every package in an rpmdb.sqlite. The gpg-pubkey entries `rpm -qa` also lists are imported
 * signing keys, not software, and are left out (as syft does).
 */
export function parseRpmdbSqlite(bytes: Uint8Array, path: string = RPMDB_SQLITE_PATHS[0]): ParsedPackage[] {
  const db = new SqliteReader(bytes, `rpm database ${path}`);
  const out: ParsedPackage[] = [];
  for (const row of db.tableRows('Packages')) {
    const blob = row.values[1];
    if (!(blob instanceof Uint8Array)) throw new CatalogError(`rpm database ${path}: Packages row ${row.rowid} has no header blob`);
    const h = parseRpmHeader(blob, `rpm database ${path}, Packages row ${row.rowid}`);
    if (h.name === 'gpg-pubkey') continue;
    const pkg: ParsedPackage = { name: h.name, version: rpmVersion(h), arch: h.arch, license: h.license };
    if (h.sourceRpm) pkg.purl = { qualifiers: { upstream: h.sourceRpm } };
    out.push(pkg);
  }
  return out;
}

export const rpmCataloger: FileCataloger = {
  ecosystem: 'rpm',
  label: 'rpm database',
  match: (path) => (RPMDB_SQLITE_PATHS as readonly string[]).includes(path),
  maxBytes: 512 * 1024 * 1024,
  parse: parseRpmdbSqlite,
};
