// Case `index` of seed `seed`: a fixture and its mutation, both chosen by the case's own generator.
import { caseRng } from './rng.ts';
import { fixtures } from './fixtures.ts';
import { mutate } from './mutate.ts';

export interface FuzzCase {
  seed: number;
  index: number;
  fixture: string;
  /** the input's file name, as a user would pass it (messages must name it) */
  name: string;
  bytes: Uint8Array;
  steps: string[];
}

export function makeCase(seed: number, index: number): FuzzCase {
  const all = fixtures();
  const r = caseRng(seed, index);
  const f = r.pick(all);
  const m = mutate(r, f, all);
  return { seed, index, fixture: f.name, name: `fuzz-${seed}-${index}.tar`, bytes: m.bytes, steps: m.steps };
}

export function describeCase(c: FuzzCase): string {
  return `seed ${c.seed} case ${c.index} (${c.fixture}: ${c.steps.join('; ')})`;
}
