// A small deterministic generator (mulberry32) and the choices the fuzzer makes with it. Every case
// gets its own generator from (seed, case number), so any case replays on its own.

export interface Rng {
  /** float in [0, 1) */
  next(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** integer in [lo, hi] */
  range(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** pick by weight: [[weight, value], …] */
  weighted<T>(items: readonly (readonly [number, T])[]): T;
  bytes(n: number): Uint8Array;
}

export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)],
    weighted: (items) => {
      let r = next() * items.reduce((a, [w]) => a + w, 0);
      for (const [w, v] of items) { if ((r -= w) < 0) return v; }
      return items[items.length - 1][1];
    },
    bytes: (n) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    },
  };
}

/** The generator of case `index` of a run: independent of every other case. */
export function caseRng(seed: number, index: number): Rng {
  // splitmix-style mixing so neighbouring (seed, index) pairs start far apart
  let x = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return rng(x ^ (x >>> 16));
}
