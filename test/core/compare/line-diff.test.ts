// The line diff against a dynamic-programming LCS on random inputs: the ops rebuild both sides and
// the edit count is minimal; the cap gives a coarse (but still correct) script.
import { describe, expect, test } from 'vitest';
import { diffLines, sideBySide, splitLines, type DiffOp } from '../../../src/core/compare/line-diff.ts';

function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Int32Array(b.length + 1));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
  }
  return dp[a.length][b.length];
}

function rebuild(ops: DiffOp[], a: string[], b: string[]): { a: string[]; b: string[] } {
  const ra: string[] = [], rb: string[] = [];
  let ia = 0, ib = 0;
  for (const o of ops) {
    if (o.op === 'same') { expect([o.a, o.b]).toEqual([ia, ib]); expect(a[o.a]).toBe(b[o.b]); ra.push(a[ia++]); rb.push(b[ib++]); }
    else if (o.op === 'del') { expect(o.a).toBe(ia); ra.push(a[ia++]); }
    else { expect(o.b).toBe(ib); rb.push(b[ib++]); }
  }
  return { a: ra, b: rb };
}

let seed = 7;
const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };

describe('diffLines', () => {
  test.each(Array.from({ length: 60 }, (_, i) => i))('random case %i is minimal and rebuilds both sides', () => {
    const alphabet = 2 + rnd(5);
    const a = Array.from({ length: rnd(40) }, () => String.fromCharCode(97 + rnd(alphabet)));
    const b = rnd(3) === 0 ? [...a] : Array.from({ length: rnd(40) }, () => String.fromCharCode(97 + rnd(alphabet)));
    const { ops, coarse } = diffLines(a, b);
    expect(coarse).toBe(false);
    expect(rebuild(ops, a, b)).toEqual({ a, b });
    expect(ops.filter((o) => o.op === 'same').length).toBe(lcs(a, b));
  });

  test('past maxEdits the middle is replaced, head and tail still aligned', () => {
    const a = ['h', ...'abcdefgh'.split(''), 't'], b = ['h', ...'ABCDEFGH'.split(''), 't'];
    const { ops, coarse } = diffLines(a, b, 3);
    expect(coarse).toBe(true);
    expect(rebuild(ops, a, b)).toEqual({ a, b });
    expect(ops[0]).toEqual({ op: 'same', a: 0, b: 0 });
    expect(ops.at(-1)).toEqual({ op: 'same', a: 9, b: 9 });
  });

  test('side by side pairs deletions with the insertions after them', () => {
    const a = splitLines('one\ntwo\nthree\nfour\n'), b = splitLines('one\n2\nthree\nfour\nfive\n');
    expect(sideBySide(diffLines(a, b).ops)).toEqual([
      { a: 0, b: 0, kind: 'same' }, { a: 1, b: 1, kind: 'changed' }, { a: 2, b: 2, kind: 'same' },
      { a: 3, b: 3, kind: 'same' }, { a: null, b: 4, kind: 'add' },
    ]);
  });

  test('empty sides', () => {
    expect(diffLines([], []).ops).toEqual([]);
    expect(diffLines(['x'], []).ops).toEqual([{ op: 'del', a: 0 }]);
    expect(diffLines([], ['x']).ops).toEqual([{ op: 'add', b: 0 }]);
  });
});
