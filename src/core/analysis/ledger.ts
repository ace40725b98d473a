// Packages over time: every sighting of a package (which file said so, and the layers during which
// that file version was visible) folded into one record per package, with the layer that
// introduced its last run and the layer that removed it. The same name and version at two places
// (two node_modules trees, two Go binaries) are two packages; dpkg, apk and rpm have one database.
import { purlFor } from './packages/purl.ts';
import type { ParsedPackage, PurlContext } from './packages/types.ts';
import type { Ecosystem, PackageRecord } from './types.ts';

interface Entry {
  ecosystem: Ecosystem;
  pkg: ParsedPackage;
  place: string;
  locations: Set<string>;
  /** [from, until) 0-based layer runs, unsorted */
  runs: [number, number][];
}

export class PackageLedger {
  private entries = new Map<string, Entry>();
  private debLicences = new Map<string, string>();

  /**
   * `location` held a file version visible from layer `from` until `until` (0-based, exclusive;
   * the layer count when the merged filesystem has it) that names this package.
   * Throws when the package cannot be written as a purl (the caller warns about its file).
   */
  add(ecosystem: Ecosystem, pkg: ParsedPackage, location: string, from: number, until: number): void {
    purlFor(ecosystem, pkg, { distro: null });
    const place = placeOf(ecosystem, location);
    const key = [ecosystem, pkg.name, pkg.version, pkg.arch ?? '', place].join('\0');
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { ecosystem, pkg, place, locations: new Set(), runs: [] }));
    else if (from >= Math.max(...e.runs.map((r) => r[0]))) e.pkg = pkg; // the latest metadata wins (licence)
    e.locations.add(location);
    if (until > from) e.runs.push([from, until]);
  }

  /** Debian keeps licences in /usr/share/doc/<package>/copyright, not in the status file. */
  setDebLicences(byPackage: Map<string, string>): void {
    this.debLicences = byPackage;
  }

  records(layerCount: number, ctx: PurlContext): PackageRecord[] {
    const out: PackageRecord[] = [];
    for (const e of this.entries.values()) {
      const run = lastRun(e.runs);
      if (!run) continue;
      const licence = e.pkg.license ?? (e.ecosystem === 'deb' ? this.debLicences.get(e.pkg.name) ?? null : null);
      out.push({
        ecosystem: e.ecosystem, name: e.pkg.name, version: e.pkg.version, arch: e.pkg.arch ?? null, license: licence,
        purl: purlFor(e.ecosystem, e.pkg, ctx), locations: [...e.locations].sort(),
        layer: run[0] + 1, removedIn: run[1] >= layerCount ? null : run[1] + 1, replacedBy: null,
      });
    }
    // an upgrade in place: the same package at the same place has another version at the end
    const live = new Map<string, string>();
    for (const r of out) if (r.removedIn === null) live.set(groupKey(r), r.version);
    for (const r of out) {
      const now = r.removedIn !== null ? live.get(groupKey(r)) : undefined;
      if (now !== undefined && now !== r.version) r.replacedBy = now;
    }
    return out.sort((a, b) => cmp(a.ecosystem, b.ecosystem) || cmp(a.name, b.name) || cmp(a.version, b.version) || a.layer - b.layer || cmp(a.locations[0], b.locations[0]));
  }
}

/** The last maximal run of layers in which some file version named the package. */
function lastRun(runs: [number, number][]): [number, number] | null {
  if (!runs.length) return null;
  const sorted = [...runs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur: [number, number] = [...sorted[0]];
  for (const r of sorted.slice(1)) {
    if (r[0] <= cur[1]) cur[1] = Math.max(cur[1], r[1]);
    else cur = [...r];
  }
  return cur;
}

/** Where a package lives, for the packages that can be installed at several places. */
export function placeOf(ecosystem: Ecosystem, location: string): string {
  switch (ecosystem) {
    case 'npm': return location.replace(/\/package\.json$/, '');
    case 'pypi': {
      // the site-packages directory holding the .dist-info / .egg-info
      const parts = location.split('/');
      const i = parts.findIndex((p) => p.endsWith('.dist-info') || p.endsWith('.egg-info'));
      return i > 0 ? parts.slice(0, i).join('/') : location;
    }
    case 'golang': return location;
    default: return '';
  }
}

const groupKey = (r: PackageRecord) => [r.ecosystem, r.name, r.arch ?? '', placeOf(r.ecosystem, r.locations[0])].join('\0');
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
