// The comparison derived independently of our trees: from two listings in the fixtures' expected
// format (path type mode uid gid size sha256 linktarget, plus path/key/value extras), as the issue
// defines a difference. Also: the same lines from a Comparison, and reading side content.
import { readFileSync } from 'node:fs';
import type { Comparison } from '../../../src/core/compare/types.ts';
import type { CompareContent } from '../../../src/core/compare/index.ts';
import { jsSha256 } from '../../../src/core/env.ts';

export interface Row { type: string; mode: string; uid: string; gid: string; size: string; sha: string; link: string; extra: Map<string, string> }
export type Listing = Map<string, Row>;

const TYPES: Record<string, string> = { f: 'file', h: 'file', d: 'dir', l: 'symlink', c: 'char', b: 'block', p: 'fifo', s: 'socket' };

export function readListing(tsv: string, extraTsv?: string): Listing {
  const out: Listing = new Map();
  for (const line of readFileSync(tsv, 'utf8').split('\n')) {
    if (!line) continue;
    const [path, t, mode, uid, gid, size, sha, link] = line.split('\t');
    out.set(path, { type: TYPES[t], mode, uid, gid, size, sha, link: t === 'l' ? link : '-', extra: new Map() });
  }
  if (extraTsv) {
    for (const line of readFileSync(extraTsv, 'utf8').split('\n')) {
      if (!line) continue;
      const [path, key, value] = line.split('\t');
      out.get(path)!.extra.set(key, value);
    }
  }
  return out;
}

const bytes = (s: string) => Buffer.from(s, 'utf8');
const byBytes = (x: string, y: string) => Buffer.compare(bytes(x), bytes(y));

function xattrs(r: Row): string {
  return [...r.extra].filter(([k]) => k.startsWith('xattr:')).map(([k, v]) => `${k}=${v}`).sort().join('\n');
}

/** "added /p", "deleted /p", "modified /p what,what" — what in the order content… as the issue lists */
export function deriveChanges(a: Listing, b: Listing): string[] {
  const out: string[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort(byBytes)) {
    const x = a.get(path), y = b.get(path);
    if (!x) { out.push(`added ${path}`); continue; }
    if (!y) { out.push(`deleted ${path}`); continue; }
    const what: string[] = [];
    if (x.type !== y.type) what.push('type');
    else if (x.type === 'file' && x.sha !== y.sha) what.push('content');
    else if (x.type === 'symlink' && x.link !== y.link) what.push('link');
    else if ((x.type === 'char' || x.type === 'block') && x.extra.get('rdev') !== y.extra.get('rdev')) what.push('device');
    if (x.type !== 'symlink' && y.type !== 'symlink' && x.mode !== y.mode) what.push('mode');
    if (x.uid !== y.uid || x.gid !== y.gid) what.push('owner');
    if (xattrs(x) !== xattrs(y)) what.push('xattrs');
    if (what.length) out.push(`modified ${path} ${what.join(',')}`);
  }
  return out;
}

/** Regular-file bytes of a listing, each path counted; and per top-level entry. */
export function listingSizes(l: Listing): { total: number; top: Map<string, number> } {
  let total = 0;
  const top = new Map<string, number>();
  for (const [path, r] of l) {
    if (r.type !== 'file') continue;
    const n = Number(r.size);
    total += n;
    const t = '/' + path.split('/')[1];
    top.set(t, (top.get(t) ?? 0) + n);
  }
  return { total, top };
}

export function comparisonLines(c: Comparison): string[] {
  return c.files.map((f) => (f.change === 'modified' ? `modified ${f.path} ${f.what.join(',')}` : `${f.change} ${f.path}`));
}

/** Side content from in-memory layer Blobs (what importBytes returns). */
export function blobContent(a: Blob[], b: Blob[], log?: string[]): CompareContent {
  return {
    async read(side, layer, offset, length) {
      log?.push(`${side}:${layer}:${offset}:${length}`);
      return new Uint8Array(await (side === 'a' ? a : b)[layer].slice(offset, offset + length).arrayBuffer());
    },
    sha256: jsSha256,
  };
}
