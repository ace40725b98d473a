// What every fuzz case must end in: success, or one clear error. Shared by the core, browser
// storage and CLI runs, so all three judge messages alike.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** The ErrorCode union of src/core/errors.ts, read from the source so the list never drifts. */
export function knownCodes(): Set<string> {
  const src = readFileSync(join(ROOT, 'src/core/errors.ts'), 'utf8');
  const union = /export type ErrorCode =([\s\S]*?);/.exec(src)![1];
  return new Set([...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]));
}

/** Longest message we accept: one line a person reads, even when it quotes the input. */
export const MESSAGE_LIMIT = 1000;

/** Problems with an error message shown to a user; `name` is the input file's name. */
export function messageProblems(message: string, name: string): string[] {
  const p: string[] = [];
  if (!message.trim()) p.push('empty message');
  if (/\n/.test(message)) p.push('message has more than one line');
  if (/\n\s+at |\bat .*\.(ts|js|mjs|cjs):\d+/.test(message)) p.push('stack trace in message');
  if (/\bundefined\b/.test(message)) p.push('message says "undefined"');
  if (/\[object \w+\]/.test(message)) p.push('message says "[object …]"');
  if (/Unexpected error|is not a function|Cannot read propert|is not iterable|Maximum call stack|Invalid array length|Array buffer allocation/.test(message)) {
    p.push('an internal error reached the user');
  }
  if (!message.includes(name) && !/\blayer \d+/.test(message)) p.push('message names neither the input nor a layer');
  if (message.length > MESSAGE_LIMIT) p.push(`message is ${message.length} characters long`);
  return p;
}

/** Problems with what an in-process run threw. */
export function errorProblems(e: unknown, name: string, codes: Set<string>): string[] {
  const err = e as { name?: string; code?: unknown; message?: unknown; stack?: string } | null;
  if (!err || typeof err !== 'object' || err.name !== 'StrataError') {
    return [`threw ${err?.name ?? typeof e}: ${String(err?.message ?? e).slice(0, 300)}${err?.stack ? ' @ ' + (err.stack.split('\n')[1] ?? '').trim() : ''}`];
  }
  const p: string[] = [];
  if (typeof err.code !== 'string' || !codes.has(err.code)) p.push(`unknown error code ${String(err.code)}`);
  p.push(...messageProblems(String(err.message), name));
  return p;
}

/** Problems with a finished CLI run: exit status, stderr, and what it left on disk. */
export function cliProblems(r: { code: number; stderr: string; timedOut: boolean }, name: string): string[] {
  if (r.timedOut) return ['hang: the CLI did not finish in time'];
  if (r.code !== 0 && r.code !== 1) return [`exit status ${r.code}${r.code === -1 ? ' (killed by a signal)' : ''}; stderr: ${r.stderr.slice(0, 300)}`];
  const lines = r.stderr.split('\n').filter(Boolean);
  if (r.code === 0) return lines.length ? [`success with stderr: ${r.stderr.slice(0, 300)}`] : [];
  if (lines.length !== 1) return [`${lines.length} lines on stderr: ${r.stderr.slice(0, 500)}`];
  const p: string[] = [];
  if (!lines[0].startsWith('strata: ')) p.push('stderr does not start with "strata: "');
  p.push(...messageProblems(lines[0], name));
  return p;
}
