// Child-process helpers for the bench: run a command to completion, and run one under GNU time
// to get its wall time and peak RSS.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

export class BenchError extends Error {
  override name = 'BenchError';
}

/** A short single-line description of a command, for messages. */
export function showCmd(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The last `n` non-empty lines of a text, indented, to show under an error. */
export function tail(text: string, n = 15): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n).map((l) => `    ${l}`).join('\n');
}

/** Run a command, capture stdout and stderr, throw if it exits non-zero. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 256 << 20, env: cEnv() });
  if (r.error) throw new BenchError(`running ${showCmd(cmd, args)}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BenchError(`${showCmd(cmd, args)} exited with ${r.status ?? r.signal}\n${tail(r.stderr)}`);
  }
  return r.stdout;
}

/** First line of `cmd --version`-style output, or undefined when the command is missing. */
export function versionOf(cmd: string, args: readonly string[] = ['--version']): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return (r.stdout || r.stderr).split('\n')[0]?.trim();
}

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** GNU time is what reports peak RSS; BusyBox or the shell keyword do not have `-f %M`. */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME) && (versionOf(GNU_TIME) ?? '').includes('GNU');
}

/** The C locale keeps tar's listing quoting identical for every tar call we compare. */
function cEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C' };
}

export interface Measurement {
  wallS: number;
  /** Peak RSS in MB of the largest single process of the tree; undefined without GNU time. */
  peakRssMb?: number;
  /** user + system CPU seconds of the whole tree: shows how much of a wall-time win is parallelism. */
  cpuS?: number;
  /** with `threads`: CPU seconds per thread of the tree, largest first, e.g. "node main 4.1, node 2.9, node 2.7, gzip 1.0" */
  threads?: string;
}

const TICK = 100; // USER_HZ on Linux

/**
 * CPU seconds of each thread in a process tree, read from /proc every 100 ms while it runs (Node
 * names every thread "node", so the main thread is the one whose tid is its pid). A thread that ends
 * between two samples loses up to 100 ms; one that lives shorter than that is not seen.
 */
class ThreadSampler {
  private readonly cpu = new Map<string, { name: string; main: boolean; s: number }>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly root: number) {}

  private pids(): number[] {
    const out: number[] = [];
    const visit = (pid: number): void => {
      out.push(pid);
      let tids: string[] = [];
      try { tids = readdirSync(`/proc/${pid}/task`); } catch { return; }
      for (const tid of tids) {
        try {
          for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) visit(Number(c));
        } catch { /* gone */ }
      }
    };
    visit(this.root);
    return out;
  }

  sample(): void {
    for (const pid of this.pids()) {
      let tids: string[] = [];
      try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
      for (const tid of tids) {
        try {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          this.cpu.set(`${pid}:${tid}`, { name, main: tid === String(pid), s: (Number(rest[11]) + Number(rest[12])) / TICK });
        } catch { /* exited meanwhile */ }
      }
    }
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), 100);
  }

  /** The 6 busiest threads, largest first, then the rest summed; GNU time itself left out. */
  stop(): string {
    clearInterval(this.timer);
    const all = [...this.cpu.values()].filter((t) => t.s > 0 && t.name !== 'time').sort((a, b) => b.s - a.s);
    const rest = all.slice(6).reduce((a, t) => a + t.s, 0);
    return all.slice(0, 6).map((t) => `${t.name}${t.main ? ' main' : ''} ${t.s.toFixed(1)}`).join(', ') +
      (all.length > 6 ? `, ${all.length - 6} more ${rest.toFixed(1)}` : '');
  }
}

/**
 * Run a command under GNU time and return its wall time and peak RSS. GNU time's %M is the
 * ru_maxrss of wait4(): on Linux that is the largest RSS of any single process in the tree that
 * was waited for (the child, its children, …) — not a sum. For `tar -xzf` that is max(tar, gzip),
 * for `sh -c 'a | b'` max(sh, a, b), for the CLI the node process (or a helper it spawned, if larger).
 * stdout and stderr go to `logFile`; on a non-zero exit the log's tail is in the thrown error.
 */
export async function measure(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; logFile: string; timeFile: string; useTime: boolean; threads?: boolean },
): Promise<Measurement> {
  const full = opts.useTime ? ['-f', '%e %M %U %S', '-o', opts.timeFile, cmd, ...args] : [...args];
  const exe = opts.useTime ? GNU_TIME : cmd;
  const fd = openSync(opts.logFile, 'w');
  const start = process.hrtime.bigint();
  let code: number | null;
  let signal: NodeJS.Signals | null;
  let sampler: ThreadSampler | undefined;
  try {
    const child = spawn(exe, full, { cwd: opts.cwd, stdio: ['ignore', fd, fd], env: cEnv() });
    if (opts.threads && child.pid !== undefined) {
      sampler = new ThreadSampler(child.pid);
      sampler.start();
    }
    [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
  } catch (err) {
    throw new BenchError(`starting ${showCmd(cmd, args)}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
  const threads = sampler?.stop();
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) {
    const log = readFileSync(opts.logFile, 'utf8');
    throw new BenchError(`${showCmd(cmd, args)} exited with ${code ?? signal}\n${tail(log)}`);
  }
  if (!opts.useTime) return { wallS, threads };
  // GNU time writes "Command exited with non-zero status N" before the format line on failure,
  // so the numbers are always the last line.
  const lines = readFileSync(opts.timeFile, 'utf8').trim().split('\n');
  const [, maxRssKb, user, sys] = (lines.at(-1) ?? '').split(' ').map(Number);
  if (![maxRssKb, user, sys].every((n) => n !== undefined && Number.isFinite(n))) {
    throw new BenchError(`could not read GNU time's output for ${showCmd(cmd, args)}: ${lines.join(' / ')}`);
  }
  return { wallS, peakRssMb: maxRssKb! / 1024, cpuS: user! + sys!, threads };
}

/** Several measurements run one after another count as one: walls add up, peak RSS is the max. */
export function combine(ms: readonly Measurement[]): Measurement {
  const wallS = ms.reduce((s, m) => s + m.wallS, 0);
  const rss = ms.map((m) => m.peakRssMb);
  const peakRssMb = rss.every((r): r is number => r !== undefined) ? Math.max(...rss) : undefined;
  const cpu = ms.map((m) => m.cpuS);
  const cpuS = cpu.every((c): c is number => c !== undefined) ? cpu.reduce((a, b) => a + b, 0) : undefined;
  return { wallS, peakRssMb, cpuS };
}

/** Flush dirty pages so one contender's writes are not paid for during the next one's clock. */
export function syncDisks(): void {
  spawnSync('sync');
}

export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
