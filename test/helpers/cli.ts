// Run the strata CLI as a user would (a separate Node process), capturing exit code and output.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const SHARED = join(ROOT, '../shared');
export const FIXTURES = join(SHARED, 'fixtures');

export interface CliResult { code: number; stdout: string; stderr: string }

export function strata(args: string[], opts: { timeout?: number; wrap?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const cmd = [...(opts.wrap ?? []), process.execPath, join(ROOT, 'scripts/strata.mjs'), ...args];
  return new Promise((resolve) => {
    execFile(cmd[0], cmd.slice(1), { cwd: ROOT, timeout: opts.timeout ?? 120_000, maxBuffer: 256 << 20, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** ../shared/tools/check-flatten.sh: the independent Python check */
export function checkFlatten(flat: string, expected: string, extra?: string): Promise<CliResult> {
  const args = [flat, expected, ...(extra ? [extra] : [])];
  return new Promise((resolve) => {
    execFile(join(SHARED, 'tools/check-flatten.sh'), args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
