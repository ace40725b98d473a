// A run cut short by Ctrl-C (SIGINT) or SIGTERM removes its temp directory (the spooled, inflated
// archive: GBs for a large image) and the output's temp file, says so on stderr and exits with
// 128 + the signal's number. Each case sends its signal while the CLI is in the middle of that
// phase: inflating a gzip-wrapped 512 MiB rootfs into its temp directory, then writing the output.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeHeader, endOfArchive } from '../../src/core/tar/writer.ts';
import { ROOT, strata } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'strata-interrupt-'));
const archive = join(dir, 'rootfs.tar.gz');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ZEROS = 512 << 20;

beforeAll(async () => {
  // `docker export … | gzip -1` of a rootfs with one 512 MiB file of zeros: 2 MB on disk
  const zero = new Uint8Array(1 << 20);
  async function* members() {
    yield encodeHeader({ name: 'zeros.bin', kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1700000000, size: ZEROS });
    for (let i = 0; i < ZEROS / zero.length; i++) yield zero;
    yield endOfArchive();
  }
  await pipeline(Readable.from(members()), createGzip({ level: 1 }), createWriteStream(archive));
  // the CLI's bundle is made once, before the timed runs
  await strata(['--help']);
}, 60_000);

/** what is in `d`, with the files of its subdirectories */
const contents = (d: string): string[] => readdirSync(d, { recursive: true }).map(String);

/**
 * Runs `strata flatten` with its own TMPDIR; once `ready()` says the phase has begun, sends
 * `signal`. Resolves with the exit code and stderr.
 */
async function interrupted(name: string, signal: NodeJS.Signals, ready: (tmp: string, out: string) => boolean): Promise<{ code: number | null; stderr: string; tmp: string; out: string }> {
  const tmp = join(dir, `${name}-tmp`);
  mkdirSync(tmp);
  const out = join(dir, `${name}.tar`);
  const child = spawn(process.execPath, [join(ROOT, 'scripts/strata.mjs'), 'flatten', archive, '-o', out], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += String(b); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let sent = false;
  for (let i = 0; i < 3000 && child.exitCode === null; i++) {
    if (ready(tmp, out)) { sent = child.kill(signal); break; }
    await new Promise((r) => setTimeout(r, 5));
  }
  const code = await exited;
  expect(sent, `the ${signal} was sent while the run was in that phase (stderr: ${stderr})`).toBe(true);
  return { code, stderr, tmp, out };
}

/** the bytes spooled so far into the CLI's temp directory (strata-*) under `tmp` */
function spooled(tmp: string): number {
  let n = 0;
  for (const d of readdirSync(tmp)) {
    if (!d.startsWith('strata-')) continue;
    for (const f of readdirSync(join(tmp, d))) n += statSync(join(tmp, d, f), { throwIfNoEntry: false })?.size ?? 0;
  }
  return n;
}

/** the output's temp file next to it has bytes: the flattened tar is being written */
const writing = (out: string): boolean => readdirSync(dir).some((f) => f.startsWith(`.${out.split('/').pop()}.strata-`) && (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0) > 0);

test.each([
  { when: 'Ctrl-C while the gzip wrapper is inflated into the temp directory', signal: 'SIGINT' as const, code: 130, ready: (tmp: string) => spooled(tmp) > 0 },
  { when: 'SIGTERM while the flattened tar is written', signal: 'SIGTERM' as const, code: 143, ready: (_tmp: string, out: string) => writing(out) },
])('$when: no temp directory, output or output temp file is left, exit $code', async ({ signal, code, ready }) => {
  const r = await interrupted(signal.toLowerCase(), signal, ready);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: `strata: interrupted (${signal}); its temporary files are removed\n` });
  expect(contents(r.tmp)).toEqual([]);
  expect(existsSync(r.out)).toBe(false);
  expect(readdirSync(dir).filter((f) => f.includes('.strata-'))).toEqual([]);
}, 60_000);

test('a run that is not interrupted leaves nothing in its temp directory either', async () => {
  const tmp = join(dir, 'whole-tmp');
  mkdirSync(tmp);
  const out = join(dir, 'whole.tar');
  const r = await strata(['flatten', archive, '-o', out], { env: { ...process.env, TMPDIR: tmp } });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(statSync(out).size).toBe(512 + ZEROS + 1024 + 512); // "./", zeros.bin and its data, end of archive
  expect(contents(tmp)).toEqual([]);
}, 60_000);
