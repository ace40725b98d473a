// Package changes between two sides, from each image's analysis (no new analysis: the packages
// "as of layer k" are the records that layer k's filesystem has). A package is one name and arch
// at one place (a node_modules directory, a site-packages directory, a Go binary; the one
// database of dpkg, apk and rpm), as the analysis counts them.
import { placeOf } from '../analysis/ledger.ts';
import { ECOSYSTEMS, type PackageRecord } from '../analysis/types.ts';
import type { PackageChange } from './types.ts';

/** The records layer `layer` (1-based) has: introduced at or before it and not removed by then. */
export function packagesAsOf(records: PackageRecord[], layer: number): PackageRecord[] {
  return records.filter((r) => r.layer <= layer && (r.removedIn === null || r.removedIn > layer));
}

const kindKey = (r: PackageRecord) => `${r.ecosystem}\0${r.name}\0${r.arch ?? ''}`;
const placeKey = (r: PackageRecord) => `${kindKey(r)}\0${placeOf(r.ecosystem, r.locations[0] ?? '')}`;

function group(records: PackageRecord[], key: (r: PackageRecord) => string): Map<string, PackageRecord[]> {
  const m = new Map<string, PackageRecord[]>();
  for (const r of records) {
    const l = m.get(key(r));
    if (l) l.push(r); else m.set(key(r), [r]);
  }
  return m;
}

/** Added, removed and changed packages from A's records to B's (both already as of their layer). */
export function comparePackages(a: PackageRecord[], b: PackageRecord[]): PackageChange[] {
  const out: PackageChange[] = [];
  const gone: PackageRecord[] = [], came: PackageRecord[] = [];
  const ga = group(a, placeKey), gb = group(b, placeKey);
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    const xs = [...(ga.get(key) ?? [])], ys = [...(gb.get(key) ?? [])];
    // the same version on both sides is no change, whatever else is there
    for (let i = xs.length - 1; i >= 0; i--) {
      const j = ys.findIndex((y) => y.version === xs[i].version);
      if (j >= 0) { xs.splice(i, 1); ys.splice(j, 1); }
    }
    if (xs.length === 1 && ys.length === 1) out.push(change(xs[0], ys[0]));
    else { gone.push(...xs); came.push(...ys); }
  }
  // a package that moved (another site-packages, another binary) and changed version on the way
  const ca = group(gone, kindKey), cb = group(came, kindKey);
  for (const [key, xs] of ca) {
    const ys = cb.get(key);
    if (xs.length === 1 && ys?.length === 1) {
      if (xs[0].version !== ys[0].version) out.push(change(xs[0], ys[0]));
      cb.delete(key);
    } else for (const x of xs) out.push(one(x, 'removed'));
  }
  for (const ys of cb.values()) for (const y of ys) out.push(one(y, 'added'));
  const eco = (c: PackageChange) => ECOSYSTEMS.indexOf(c.ecosystem);
  return out.sort((x, y) => eco(x) - eco(y) || cmp(x.name, y.name) || cmp(x.arch ?? '', y.arch ?? '') || cmp(x.location, y.location) || cmp(x.from ?? '', y.from ?? ''));
}

function change(x: PackageRecord, y: PackageRecord): PackageChange {
  return { ecosystem: y.ecosystem, name: y.name, arch: y.arch, change: 'changed', from: x.version, to: y.version, location: y.locations[0] ?? '' };
}

function one(r: PackageRecord, kind: 'added' | 'removed'): PackageChange {
  return {
    ecosystem: r.ecosystem, name: r.name, arch: r.arch, change: kind,
    from: kind === 'removed' ? r.version : null, to: kind === 'added' ? r.version : null, location: r.locations[0] ?? '',
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
