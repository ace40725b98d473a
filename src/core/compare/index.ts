// Comparing two sides, each an image at a layer: first everything the models tell without reading
// content (files, sizes, packages, config, layers: the summary), then the hashes that decide the
// files of equal size whose content comes from different sources.
import type { PackageRecord } from '../analysis/types.ts';
import { compareConfig, compareLayers } from './config.ts';
import { settleContent, type CompareContent, type ContentOptions, hashWork } from './content.ts';
import { JoinSide, joinFiles, type CompareInput } from './files.ts';
import { comparePackages, packagesAsOf } from './packages.ts';
import type { Comparison, PackageChange } from './types.ts';

export type { CompareInput } from './files.ts';
export type { CompareContent } from './content.ts';
export { comparePaths } from './files.ts';
export { comparePackages, packagesAsOf } from './packages.ts';
export { packComparison, unpackComparison, type PackedComparison } from './packed.ts';

/** A side's packages: the analysis's records, or why they are not known. */
export type SidePackages = { records: PackageRecord[] } | { missing: string };

export interface CompareOptions extends ContentOptions {
  packages?: { a: SidePackages; b: SidePackages };
  /** the comparison before any hashing: the summary can be shown meanwhile */
  onSummary?: (cmp: Comparison) => void | Promise<void>;
}

/** A comparison whose pending files are settled by `settle`. */
export class Comparer {
  private readonly A: JoinSide;
  private readonly B: JoinSide;

  constructor(private readonly a: CompareInput, private readonly b: CompareInput) {
    const same = a.id === b.id;
    const blobs = new Map<string, number>();
    this.A = new JoinSide(a, same, 'a', blobs);
    this.B = new JoinSide(b, same, 'b', blobs);
  }

  /** Everything but content hashes. */
  summary(packages?: CompareOptions['packages']): Comparison {
    const { a, b } = this;
    const files = joinFiles(this.A, this.B);
    const pkgs = packageChanges(a.meta.image.name, a.layer + 1, b.meta.image.name, b.layer + 1, packages);
    const { work } = hashWork(files.files, this.A, this.B);
    return {
      format: 1,
      a: { name: a.meta.image.name, layer: a.layer + 1, layerCount: a.meta.layers.length },
      b: { name: b.meta.image.name, layer: b.layer + 1, layerCount: b.meta.layers.length },
      ...files,
      packages: pkgs.changes, packagesNote: pkgs.note,
      config: compareConfig(a.meta, a.layer, b.meta, b.layer),
      layers: compareLayers(a.meta, a.layer, b.meta, b.layer, a.id === b.id),
      hashing: work,
      complete: work.files === 0,
    };
  }

  /** Hash what the summary left pending and settle it. */
  settle(cmp: Comparison, reader: CompareContent, opts: ContentOptions = {}): Promise<Comparison> {
    return settleContent(cmp, this.A, this.B, reader, opts);
  }
}

export async function compareImages(a: CompareInput, b: CompareInput, reader: CompareContent, opts: CompareOptions = {}): Promise<Comparison> {
  const c = new Comparer(a, b);
  const summary = c.summary(opts.packages);
  await opts.onSummary?.(summary);
  return summary.complete ? summary : c.settle(summary, reader, opts);
}

/** The comparison with its package part computed again (when a side's analysis listed them later). */
export function withPackages<T extends Pick<Comparison, 'a' | 'b' | 'packages' | 'packagesNote'>>(cmp: T, packages: NonNullable<CompareOptions['packages']>): T {
  const p = packageChanges(cmp.a.name, cmp.a.layer, cmp.b.name, cmp.b.layer, packages);
  return { ...cmp, packages: p.changes, packagesNote: p.note };
}

/** `layerA`, `layerB`: 1-based */
function packageChanges(nameA: string, layerA: number, nameB: string, layerB: number, p: CompareOptions['packages']): { changes: PackageChange[] | null; note: string | null } {
  if (!p) return { changes: null, note: 'Packages were not compared.' };
  const { a: pa, b: pb } = p;
  if ('missing' in pa || 'missing' in pb) {
    const notes: string[] = [];
    if ('missing' in pa) notes.push(`A (${nameA}): ${pa.missing}`);
    if ('missing' in pb) notes.push(`B (${nameB}): ${pb.missing}`);
    return { changes: null, note: `Packages not compared: ${notes.join('; ')}.` };
  }
  return { changes: comparePackages(packagesAsOf(pa.records, layerA), packagesAsOf(pb.records, layerB)), note: null };
}
