// A line diff for the side-by-side view of a modified text file: Myers' O((N+M)·D) greedy
// algorithm over line ids, after trimming the common head and tail. The trace keeps one V slice
// per edit step, so the edit count is capped: past `maxEdits` the middle is shown as replaced.

export type DiffOp = { op: 'same'; a: number; b: number } | { op: 'del'; a: number } | { op: 'add'; b: number };

export interface LineDiff {
  ops: DiffOp[];
  /** true when the files differed in more than `maxEdits` lines and the middle was not aligned */
  coarse: boolean;
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function diffLines(a: string[], b: string[], maxEdits = 2000): LineDiff {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ids = new Map<string, number>();
  const id = (s: string) => { let v = ids.get(s); if (v === undefined) ids.set(s, (v = ids.size)); return v; };
  const xa = Int32Array.from(a.slice(head, a.length - tail), id);
  const xb = Int32Array.from(b.slice(head, b.length - tail), id);
  const ops: DiffOp[] = [];
  for (let i = 0; i < head; i++) ops.push({ op: 'same', a: i, b: i });
  const middle = myers(xa, xb, maxEdits);
  const coarse = middle === null;
  if (middle) for (const o of middle) ops.push(shift(o, head));
  else {
    for (let i = 0; i < xa.length; i++) ops.push({ op: 'del', a: head + i });
    for (let j = 0; j < xb.length; j++) ops.push({ op: 'add', b: head + j });
  }
  for (let t = tail; t > 0; t--) ops.push({ op: 'same', a: a.length - t, b: b.length - t });
  return { ops, coarse };
}

function shift(o: DiffOp, by: number): DiffOp {
  if (o.op === 'same') return { op: 'same', a: o.a + by, b: o.b + by };
  return o.op === 'del' ? { op: 'del', a: o.a + by } : { op: 'add', b: o.b + by };
}

/** The shortest edit script from a to b, or null when it needs more than maxEdits edits. */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): DiffOp[] | null {
  const n = a.length, m = b.length;
  const max = n + m;
  if (max === 0) return [];
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= Math.min(max, maxEdits); d++) {
    // V as it was before step d: entries -d..d (only -(d-1)..d-1 are ever read)
    trace.push(v.slice(off - d, off + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return null;
}

function backtrack(trace: Int32Array[], n: number, m: number): DiffOp[] {
  const out: DiffOp[] = [];
  let x = n, y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    if (d === 0) {
      while (x > 0 && y > 0) out.push({ op: 'same', a: --x, b: --y });
      break;
    }
    const v = trace[d];
    const at = (k: number) => v[k + d];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const px = at(prevK), py = px - prevK;
    while (x > px && y > py) out.push({ op: 'same', a: --x, b: --y });
    if (x === px) out.push({ op: 'add', b: --y });
    else out.push({ op: 'del', a: --x });
  }
  return out.reverse();
}

export interface SideRow {
  /** 0-based line numbers; null where that side has no line in this row */
  a: number | null;
  b: number | null;
  kind: 'same' | 'changed' | 'del' | 'add';
}

/** Rows for a side-by-side view: a run of deletions next to the insertions that follow it. */
export function sideBySide(ops: DiffOp[]): SideRow[] {
  const rows: SideRow[] = [];
  for (let i = 0; i < ops.length;) {
    const o = ops[i];
    if (o.op === 'same') { rows.push({ a: o.a, b: o.b, kind: 'same' }); i++; continue; }
    const dels: number[] = [], adds: number[] = [];
    while (i < ops.length && ops[i].op !== 'same') {
      const x = ops[i++];
      if (x.op === 'del') dels.push(x.a); else if (x.op === 'add') adds.push(x.b);
    }
    for (let j = 0; j < Math.max(dels.length, adds.length); j++) {
      const a = dels[j] ?? null, b = adds[j] ?? null;
      rows.push({ a, b, kind: a !== null && b !== null ? 'changed' : a !== null ? 'del' : 'add' });
    }
  }
  return rows;
}
