// `npm run fuzz -- [--seed=N] [--cases=M] [--minutes=T] [--target=core,storage,cli] [--case=I]
//                  [--threads=N] [--timeout=S] [--save=DIR]`
// Thousands of seeded cases: M for the core, M/4 through the browser import into IndexedDB, M/10
// through the CLI. Prints the seed first and every failure with the command that replays it; exits
// 1 when any case failed. --case replays one case (of each --target); --save writes failing inputs.
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCase } from './cases.ts';
import { report, runCases, type AnyTarget, type Result } from './harness.ts';

function args(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of process.argv.slice(2)) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) { console.error(`fuzz: unknown argument ${a}`); process.exit(2); }
    out[m[1]] = m[2] ?? '';
  }
  return out;
}

const a = args();
const seed = a.seed !== undefined ? Number(a.seed) >>> 0 : randomInt(2 ** 31);
const total = Number(a.cases ?? 3000);
const targets = (a.target ?? 'core,storage,cli').split(',') as AnyTarget[];
const share: Record<AnyTarget, number> = { core: 1, storage: 1 / 4, cli: 1 / 10 };
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const cases = Object.fromEntries(targets.map((t) => [t, a.case !== undefined ? [Number(a.case)] : range(Math.max(1, Math.round(total * share[t])))])) as Record<AnyTarget, number[]>;
const minutes = a.minutes !== undefined ? Number(a.minutes) : undefined;
const dir = mkdtempSync(join(tmpdir(), 'strata-fuzz-'));

console.log(`strata fuzz: seed ${seed}; ${targets.map((t) => `${cases[t].length} ${t}`).join(', ')} cases${minutes ? `; at most ${minutes} min` : ''}`);
if (a.case === undefined) console.log(`  replay this run: npm run fuzz -- --seed=${seed} --cases=${total}${a.target ? ` --target=${a.target}` : ''}`);

const t0 = Date.now();
let done = 0;
let last = t0;
const failures: Result[] = [];
const outcomes = new Map<string, number>();
const results = await runCases({
  targets, seed, cases,
  threads: Number(a.threads ?? 2),
  timeoutMs: Number(a.timeout ?? 5) * 1000,
  cliTimeoutMs: Math.max(30, Number(a.timeout ?? 5) * 6) * 1000,
  deadline: minutes ? t0 + minutes * 60_000 : undefined,
  dir,
  onResult: (r) => {
    done++;
    const key = `${r.target} ${r.problems.length ? 'FAILED' : /^(imported|stored|exit 0)/.test(r.outcome) ? 'ok' : r.target === 'cli' ? 'exit 1' : r.outcome.split(':')[0]}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (a.case !== undefined) console.log(`${r.target} case ${r.index}: ${r.outcome}\n  input: ${r.describe}`);
    if (r.problems.length) {
      failures.push(r);
      console.log(report(r));
      if (a.save !== undefined) {
        mkdirSync(a.save || 'fuzz-failures', { recursive: true });
        writeFileSync(join(a.save || 'fuzz-failures', `${r.target}-${seed}-${r.index}.tar`), makeCase(seed, r.index).bytes);
      }
    }
    if (Date.now() - last > 15_000) { last = Date.now(); console.log(`  … ${done} cases, ${failures.length} failed, ${((last - t0) / 1000).toFixed(0)} s`); }
  },
});
rmSync(dir, { recursive: true, force: true });
const secs = ((Date.now() - t0) / 1000).toFixed(1);
console.log(`strata fuzz: seed ${seed}: ${results.length} cases in ${secs} s, ${failures.length} failed`);
for (const [k, n] of [...outcomes].sort()) console.log(`  ${k}: ${n}`);
process.exit(failures.length ? 1 : 0);
