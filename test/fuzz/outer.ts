// The outer archive as members (test side): find layers and JSON, change a member's bytes, and
// re-serialise — untouched members keep their exact original bytes. `fixup` makes the archive
// consistent again after a change: content-addressed names, manifest digests and sizes, config
// diff_ids — so a damaged layer reaches the tar reader instead of stopping at a digest check.
import { createHash } from 'node:crypto';
import { BLOCK, concat, cstr, fixChecksum, joinTar, mainHeader, octal, putField, recordName, splitTar, typeflagOf, type SplitTar, type TarRecord } from './tar-blocks.ts';

export type Kind = 'layer-gzip' | 'layer-zstd' | 'layer-tar' | 'json' | 'other';

export interface Member {
  name: string;
  typeflag: string;
  linkname: string;
  /** content without padding */
  data: Uint8Array;
  kind: Kind;
  /** the 64-hex digest in the name that the content hashed to when read, if any */
  addr?: string;
  /** the original record; null once the member changed */
  rec: TarRecord | null;
}

export interface Outer { members: Member[]; trailer: Uint8Array }

const HEX = /[0-9a-f]{64}/;
export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function kindOf(name: string, typeflag: string, data: Uint8Array): Kind {
  if (typeflag !== '0' && typeflag !== '7') return 'other';
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return 'layer-gzip';
  if (data.length >= 4 && data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd) return 'layer-zstd';
  if (data.length >= 1024 && splitTar(data.subarray(0, BLOCK)) !== null) return 'layer-tar';
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09)) i++;
  if (data[i] === 0x7b || data[i] === 0x5b || /(^|\/)(repositories|json)$/.test(name)) return 'json';
  return 'other';
}

export function parseOuter(bytes: Uint8Array): Outer | null {
  const t = splitTar(bytes);
  if (!t) return null;
  const members = t.records.map((rec): Member => {
    const h = mainHeader(rec);
    const typeflag = typeflagOf(rec);
    const size = typeflag === '0' || typeflag === '7' ? rec.data.length : 0;
    const declared = Number.parseInt(cstr(h, 124, 12).trim() || '0', 8);
    const data = rec.data.subarray(0, Number.isFinite(declared) ? Math.min(declared, size) : size);
    const name = recordName(rec);
    const hex = HEX.exec(name)?.[0];
    return { name, typeflag, linkname: cstr(h, 157, 100), data, kind: kindOf(name, typeflag, data), addr: hex && sha(data) === hex ? hex : undefined, rec };
  });
  return { members, trailer: t.trailer };
}

/** A member's new record: its original main header with name, size and linkname rewritten. */
function record(m: Member): TarRecord {
  const h = m.rec ? mainHeader(m.rec).slice() : new Uint8Array(BLOCK);
  putField(h, 0, 'name', m.name);
  putField(h, 0, 'prefix', '');
  putField(h, 0, 'linkname', m.linkname);
  putField(h, 0, 'size', octal(m.typeflag === '0' || m.typeflag === '7' ? m.data.length : 0, 12));
  fixChecksum(h);
  const pad = (BLOCK - (m.data.length % BLOCK)) % BLOCK;
  return { headers: h, data: concat([m.data, new Uint8Array(pad)]) };
}

export function serialize(o: Outer): Uint8Array {
  const t: SplitTar = { records: o.members.map((m) => m.rec ?? record(m)), trailer: o.trailer };
  return joinTar(t);
}

export function setData(m: Member, data: Uint8Array): void {
  m.data = data;
  m.rec = null;
}

const utf8 = new TextDecoder();
const enc = new TextEncoder();

function replaceAll(s: string, map: Map<string, string>): string {
  if (!map.size) return s;
  return s.replace(/[0-9a-f]{64}/g, (h) => map.get(h) ?? h);
}

/** OCI descriptors ({digest, size}) whose blob is in the archive get the blob's real size. */
function fixSizes(text: string, o: Outer): string {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { return text; }
  let changed = false;
  const walk = (v: unknown, depth: number): void => {
    if (!v || typeof v !== 'object' || depth > 64) return;
    if (Array.isArray(v)) { for (const x of v) walk(x, depth + 1); return; }
    const d = v as Record<string, unknown>;
    if (typeof d.digest === 'string' && typeof d.size === 'number') {
      const hex = HEX.exec(d.digest)?.[0];
      const blob = hex && o.members.find((m) => m.name === `blobs/sha256/${hex}`);
      if (blob && blob.data.length !== d.size) { d.size = blob.data.length; changed = true; }
    }
    for (const x of Object.values(d)) walk(x, depth + 1);
  };
  walk(doc, 0);
  return changed ? JSON.stringify(doc) : text;
}

/**
 * Makes every reference consistent with the content again. `renames` starts with digests that
 * changed outside a member name (a layer's diff_id); content-addressed members that changed add
 * theirs. Repeats until nothing moves: a layer renames its blob, which changes the manifest,
 * which renames the manifest blob, which changes index.json.
 */
export function fixup(o: Outer, renames: Map<string, string>): void {
  for (let round = 0; round < 16; round++) {
    let moved = false;
    for (const m of o.members) {
      if (m.kind === 'json' && m.data.length < 8 << 20) {
        const text = utf8.decode(m.data);
        const next = fixSizes(replaceAll(text, renames), o);
        if (next !== text) setData(m, enc.encode(next));
      }
      const linkname = replaceAll(m.linkname, renames);
      if (linkname !== m.linkname) { m.linkname = linkname; m.rec = null; }
    }
    for (const m of o.members) {
      if (!m.addr) continue;
      const now = sha(m.data);
      if (now === m.addr) continue;
      renames.set(m.addr, now);
      m.name = m.name.replace(m.addr, now);
      m.addr = now;
      m.rec = null;
      moved = true;
    }
    if (!moved) return;
  }
}
