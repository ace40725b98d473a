// The Analysis view's package table: scopes, search and counts over AnalysisResult.packages.

import type { Ecosystem, PackageRecord } from '../../core/analysis/types.ts';

/**
 * `squashed`: what the merged filesystem has (what a scanner of the running container sees);
 * `all-layers`: every version any layer brought; `removed`: the versions only a per-layer scanner
 * reports (gone from the merged filesystem); `upgraded`: removed versions another version of the
 * same package replaced in place.
 */
export type PackageScope = 'squashed' | 'all-layers' | 'removed' | 'upgraded';
export const PACKAGE_SCOPES: readonly PackageScope[] = ['squashed', 'all-layers', 'removed', 'upgraded'];

export const SCOPE_LABEL: Record<PackageScope, string> = {
  squashed: 'In the final image', 'all-layers': 'All layers', removed: 'Only a per-layer scanner reports', upgraded: 'Upgraded in place',
};

export interface PackageFilter { ecosystem: Ecosystem | 'all'; scope: PackageScope; search: string }

export function inScope(p: PackageRecord, scope: PackageScope): boolean {
  switch (scope) {
    case 'squashed': return p.removedIn === null;
    case 'all-layers': return true;
    case 'removed': return p.removedIn !== null;
    case 'upgraded': return p.replacedBy !== null;
  }
}

/** Case-insensitive substring of the name, version, licence, purl or a location. */
export function matchesSearch(p: PackageRecord, search: string): boolean {
  const q = search.trim().toLowerCase();
  if (!q) return true;
  return [p.name, p.version, p.license ?? '', p.purl, ...p.locations].some((s) => s.toLowerCase().includes(q));
}

export function filterPackages(list: readonly PackageRecord[], f: PackageFilter): PackageRecord[] {
  return list.filter((p) => (f.ecosystem === 'all' || p.ecosystem === f.ecosystem) && inScope(p, f.scope) && matchesSearch(p, f.search));
}

/** How many packages each ecosystem has in `scope`, and each scope has in `ecosystem` ('all': any). */
export function countPackages(list: readonly PackageRecord[], f: Pick<PackageFilter, 'ecosystem' | 'scope'>): {
  byEcosystem: Map<Ecosystem, number>; byScope: Record<PackageScope, number>;
} {
  const byEcosystem = new Map<Ecosystem, number>();
  const byScope: Record<PackageScope, number> = { squashed: 0, 'all-layers': 0, removed: 0, upgraded: 0 };
  for (const p of list) {
    if (inScope(p, f.scope)) byEcosystem.set(p.ecosystem, (byEcosystem.get(p.ecosystem) ?? 0) + 1);
    if (f.ecosystem !== 'all' && p.ecosystem !== f.ecosystem) continue;
    for (const s of PACKAGE_SCOPES) if (inScope(p, s)) byScope[s]++;
  }
  return { byEcosystem, byScope };
}
