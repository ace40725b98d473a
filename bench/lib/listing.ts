// The sanity check of the flattened tar: the path set it should contain, derived independently
// from `tar -t` listings of each layer with whiteouts applied, compared with `tar -t` of the output.

const OPAQUE = '.wh..wh..opq';
const WH = '.wh.';

/** Paths as the comparison sees them: no './' or '/' prefix, no trailing '/', never '.'. */
export function cleanPath(line: string): string {
  let p = line;
  while (p.startsWith('./')) p = p.slice(2);
  p = p.replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

function addWithParents(set: Set<string>, p: string): void {
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) set.add(p.slice(0, i));
  set.add(p);
}

function removeUnder(set: Set<string>, dir: string, includingDir: boolean): void {
  const prefix = `${dir}/`;
  if (includingDir) set.delete(dir);
  for (const p of set) if (p.startsWith(prefix)) set.delete(p);
}

/**
 * Apply layers in order (OCI image-spec "Whiteouts"): a layer's whiteouts hide paths of the
 * layers below it only, so they are applied before the layer's own entries are added.
 */
export function mergeListings(layers: readonly string[][]): Set<string> {
  const tree = new Set<string>();
  for (const lines of layers) {
    const adds: string[] = [];
    for (const line of lines) {
      const p = cleanPath(line);
      if (p === '') continue;
      const slash = p.lastIndexOf('/');
      const dir = p.slice(0, slash + 1);
      const base = p.slice(slash + 1);
      if (base === OPAQUE) removeUnder(tree, dir.slice(0, -1), false);
      else if (base.startsWith(WH)) removeUnder(tree, dir + base.slice(WH.length), true);
      else adds.push(p);
    }
    for (const p of adds) addWithParents(tree, p);
  }
  return tree;
}

export interface OutputCheck {
  entries: number;
  duplicates: number;
  whiteoutsLeft: number;
  expected: number;
  actual: number;
  missing: string[];
  extra: string[];
  ok: boolean;
}

/** Compare `tar -t` of the output with the expected set; parents count whether or not they have entries. */
export function checkOutput(outputLines: readonly string[], expected: Set<string>): OutputCheck {
  const seen = new Set<string>();
  const actual = new Set<string>();
  let entries = 0;
  let duplicates = 0;
  let whiteoutsLeft = 0;
  for (const line of outputLines) {
    const p = cleanPath(line);
    if (line === '') continue;
    entries++;
    if (p === '') continue;
    if (seen.has(p)) duplicates++;
    seen.add(p);
    if (p.slice(p.lastIndexOf('/') + 1).startsWith(WH)) whiteoutsLeft++;
    addWithParents(actual, p);
  }
  const missing = [...expected].filter((p) => !actual.has(p)).sort();
  const extra = [...actual].filter((p) => !expected.has(p)).sort();
  const ok = missing.length === 0 && extra.length === 0 && duplicates === 0 && whiteoutsLeft === 0;
  return { entries, duplicates, whiteoutsLeft, expected: expected.size, actual: actual.size, missing, extra, ok };
}
