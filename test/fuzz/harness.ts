// Runs fuzz cases and collects failures: core and storage cases in worker processes (a hang is a
// timeout, after which the process is replaced; a crash or out-of-memory is a failure too), CLI
// cases as separate processes, exactly as users run `strata`.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { strata } from '../helpers/cli.ts';
import { describeCase, makeCase } from './cases.ts';
import { cliProblems } from './invariants.ts';
import { caseRng } from './rng.ts';
import { splitTar } from './tar-blocks.ts';
import type { CaseReply, CaseRequest, Target } from './worker.ts';

export type AnyTarget = Target | 'cli';
export interface Result { target: AnyTarget; seed: number; index: number; problems: string[]; outcome: string; describe: string; ms: number; extraMB?: number }

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** One worker process running cases one at a time; replaced after a hang or a crash. */
export class FuzzProcess {
  private p: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private waiting: ((m: CaseReply | { crashed: string }) => void) | null = null;

  private start(): Promise<void> {
    // the TypeScript sources load through tsx; the heap is capped so a runaway allocation ends the
    // case (as a crash) instead of the machine
    const p = fork(WORKER, [], { execArgv: ['--import', 'tsx', '--max-old-space-size=1536'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    this.p = p;
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    return new Promise<void>((resolve, reject) => {
      p.on('message', (m: CaseReply | { ready: true }) => {
        if ('ready' in m) { resolve(); return; }
        const f = this.waiting; this.waiting = null; f?.(m);
      });
      p.on('exit', (code, signal) => {
        if (this.p === p) this.p = null;
        const last = stderr.split('\n').map((l) => l.trim()).filter((l) => /Error|Assertion|FATAL|heap/i.test(l)).slice(0, 2).join(' / ');
        const why = `exited with ${signal ?? code}${last ? `: ${last.slice(0, 300)}` : ''}`;
        reject(new Error(`the fuzz worker did not start: ${why}`));
        const f = this.waiting; this.waiting = null; f?.({ crashed: why });
      });
    });
  }

  async run(req: CaseRequest, timeoutMs: number): Promise<Result> {
    if (!this.p) this.ready = this.start();
    await this.ready;
    const p = this.p!;
    return new Promise<Result>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.p = null;
        p.kill('SIGKILL');
        resolve(failed(req, `hang: no result after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiting = (m) => {
        clearTimeout(timer);
        resolve('crashed' in m ? failed(req, `the case crashed its process: ${m.crashed}`) : m);
      };
      p.send(req);
    });
  }

  close(): void {
    this.p?.kill('SIGKILL');
    this.p = null;
  }
}

function failed(req: CaseRequest | { target: 'cli'; seed: number; index: number }, problem: string): Result {
  const describe = 'input' in req && req.input ? req.input.what : describeCase(makeCase(req.seed, req.index));
  return { target: req.target, seed: req.seed, index: req.index, problems: [problem], outcome: '', describe, ms: 0 };
}

/** How a CLI case is run: which command, with which options. */
function cliArgs(seed: number, index: number, image: string, out: string): string[] {
  const r = caseRng(seed ^ 0x5bd1e995, index);
  return r.weighted<string[]>([
    [5, ['flatten', image, '-o', join(out, 'flat.tar')]],
    [2, ['flatten', image, '-o', join(out, 'flat.tar'), '--no-verify']],
    [2, ['sbom', image, '-o', join(out, 'sbom.json')]],
    [1, ['inspect', image]],
    [1, ['ls', image, '--changes']],
  ]);
}

/** One case through `node scripts/strata.mjs` with its own TMPDIR and output directory. */
export async function runCliCase(seed: number, index: number, dir: string, timeoutMs: number): Promise<Result> {
  const c = makeCase(seed, index);
  const base = join(dir, `case-${index}`);
  const out = join(base, 'out');
  const tmp = join(base, 'tmp');
  mkdirSync(out, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const image = join(base, c.name);
  writeFileSync(image, c.bytes);
  let args = cliArgs(seed, index, image, out);
  const problems: string[] = [];
  const t0 = Date.now();
  const once = async () => {
    const t = Date.now();
    const r = await strata(args, { timeout: timeoutMs, env: { ...process.env, TMPDIR: tmp } });
    problems.push(...cliProblems({ ...r, timedOut: r.code === -1 && Date.now() - t >= timeoutMs - 50 }, c.name));
    const left = readdirSync(out);
    if (r.code !== 0 && left.length) problems.push(`a failed run left files in the output directory: ${left.join(', ')}`);
    return r;
  };
  let r = await once();
  // several images: a user names one, and the case goes on to the layers
  if (r.code === 1 && /Choose one \(CLI: --image/.test(r.stderr)) { args = [...args, '--image', '0']; r = await once(); }
  const ms = Date.now() - t0;
  if (r.code === 0 && args[0] === 'flatten' && !splitTar(new Uint8Array(readFileSync(join(out, 'flat.tar'))))) problems.push('the flattened output is not a well-formed tar');
  if (r.code === 0 && args[0] === 'sbom') {
    try { JSON.parse(readFileSync(join(out, 'sbom.json'), 'utf8')); } catch { problems.push('the SBOM is not JSON'); }
  }
  const temp = readdirSync(tmp);
  if (temp.length) problems.push(`temp files left in TMPDIR: ${temp.join(', ')}`);
  rmSync(base, { recursive: true, force: true });
  const shown = args.map((a) => a.startsWith(base) ? a.slice(base.length + 1) : a).join(' ');
  return {
    target: 'cli', seed, index, problems, ms, describe: `${describeCase(c)}; strata ${shown}`,
    outcome: r.code === 0 ? 'exit 0' : `exit ${r.code}: ${r.stderr.trim().slice(0, 500)}`,
  };
}

export interface RunOptions {
  targets: AnyTarget[];
  seed: number;
  /** case numbers to run, per target */
  cases: Record<AnyTarget, number[]>;
  /** worker processes for core/storage, concurrent CLI runs for the CLI */
  threads: number;
  timeoutMs: number;
  cliTimeoutMs: number;
  /** stop starting cases at this time (ms since the epoch) */
  deadline?: number;
  /** scratch directory for CLI cases */
  dir: string;
  onResult?: (r: Result) => void;
}

/**
 * Runs every case of every target; resolves with all results (failures are those with problems).
 * Targets are interleaved by progress, so a run cut short by `deadline` has covered each alike.
 */
export async function runCases(o: RunOptions): Promise<Result[]> {
  const results: Result[] = [];
  const queue = o.targets
    .flatMap((target) => o.cases[target].map((index, k) => ({ target, index, at: k / o.cases[target].length })))
    .sort((a, b) => a.at - b.at);
  const lane = async () => {
    const procs: Partial<Record<Target, FuzzProcess>> = {};
    try {
      for (let job = queue.shift(); job; job = queue.shift()) {
        if (o.deadline && Date.now() > o.deadline) break;
        const { target, index } = job;
        const r = target === 'cli'
          ? await runCliCase(o.seed, index, o.dir, o.cliTimeoutMs)
          : await (procs[target] ??= new FuzzProcess()).run({ target, seed: o.seed, index }, o.timeoutMs);
        results.push(r);
        o.onResult?.(r);
      }
    } finally {
      for (const p of Object.values(procs)) p.close();
    }
  };
  await Promise.all(Array.from({ length: o.threads }, lane));
  return results;
}

export function reproduce(r: { target: AnyTarget; seed: number; index: number }): string {
  return `npm run fuzz -- --seed=${r.seed} --case=${r.index} --target=${r.target}`;
}

export function report(r: Result): string {
  return `FAIL ${r.target} seed ${r.seed} case ${r.index}: ${r.problems.join('; ')}\n  input:   ${r.describe}\n  outcome: ${r.outcome}\n  again:   ${reproduce(r)}`;
}
