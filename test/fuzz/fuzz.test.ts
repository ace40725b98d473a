// Seeded mutation fuzzing in `npm test`: a few hundred cases with a fixed seed, through the core as
// the browser runs it, the browser's import into IndexedDB, and the CLI. Every case must end in
// success or one clear error (harness.ts, invariants.ts). `npm run fuzz` runs thousands with any
// seed; a failure there prints the command that replays it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { strata } from '../helpers/cli.ts';
import { makeCase } from './cases.ts';
import { FuzzProcess, report, runCases, type AnyTarget, type Result } from './harness.ts';
import { cliProblems, errorProblems, knownCodes, messageProblems } from './invariants.ts';
import { fixup, parseOuter, serialize, setData } from './outer.ts';
import { compress, decompress, mutateJson } from './mutate.ts';
import { rng } from './rng.ts';
import { fixtures } from './fixtures.ts';
import { base256, concat, header, octal } from './tar-blocks.ts';
import { ociArchive } from '../helpers/build.ts';

/** The seed of `npm test`: fixed, so a red run replays exactly. */
const SEED = 20261130;
const COUNTS: Record<AnyTarget, number> = { core: 300, storage: 60, cli: 24 };

const dir = mkdtempSync(join(tmpdir(), 'strata-fuzz-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function fuzz(target: AnyTarget, threads: number): Promise<Result[]> {
  return runCases({
    targets: [target], seed: SEED, cases: { core: [], storage: [], cli: [], [target]: range(COUNTS[target]) },
    // generous for a loaded CI machine: a case takes 5–100 ms (core) or ~0.5 s (CLI)
    threads, timeoutMs: 15_000, cliTimeoutMs: 60_000, dir,
  });
}

const failures = (rs: Result[]) => rs.filter((r) => r.problems.length).map(report);
const succeeded = (rs: Result[]) => rs.filter((r) => /^(imported|stored|exit 0)/.test(r.outcome)).length;

describe(`fuzz, seed ${SEED}`, () => {
  test(`core as the browser runs it: ${COUNTS.core} cases end in success or one StrataError`, async () => {
    const rs = await fuzz('core', 1);
    expect(failures(rs)).toEqual([]);
    expect(rs).toHaveLength(COUNTS.core);
    // the mutations reach past the outer archive: many import, many fail inside a layer
    expect(succeeded(rs)).toBeGreaterThan(COUNTS.core / 5);
    expect(rs.filter((r) => /^[A-Z_]+: layer \d+/.test(r.outcome)).length).toBeGreaterThan(COUNTS.core / 10);
  }, 240_000);

  test(`browser import into IndexedDB: ${COUNTS.storage} cases, a failed import stores nothing`, async () => {
    const rs = await fuzz('storage', 1);
    expect(failures(rs)).toEqual([]);
    expect(succeeded(rs)).toBeGreaterThan(COUNTS.storage / 5);
    // failures after beginImage (inside a layer) are the ones that must clean up
    expect(rs.filter((r) => /: layer \d+/.test(r.outcome)).length).toBeGreaterThan(3);
  }, 240_000);

  test(`CLI: ${COUNTS.cli} cases exit 0 or 1 with one line, leaving no output and no temp files`, async () => {
    const rs = await fuzz('cli', 2);
    expect(failures(rs)).toEqual([]);
    expect(succeeded(rs)).toBeGreaterThan(2);
    expect(rs.filter((r) => r.outcome.startsWith('exit 1')).length).toBeGreaterThan(2);
  }, 240_000);
});

describe('the fuzzer can fail', () => {
  const codes = knownCodes();

  test('errors that are not one clear StrataError are caught', () => {
    const strataError = (code: string, message: string) => Object.assign(new Error(message), { name: 'StrataError', code });
    expect(errorProblems(new TypeError("Cannot read properties of null (reading 'os')"), 'x.tar', codes)).toHaveLength(1);
    expect(errorProblems(strataError('NOPE', 'x.tar: bad'), 'x.tar', codes)).toEqual(['unknown error code NOPE']);
    expect(errorProblems(strataError('BAD_JSON', 'x.tar: bad'), 'x.tar', codes)).toEqual([]);
    expect(messageProblems('x.tar: one\ntwo', 'x.tar')).toEqual(['message has more than one line']);
    expect(messageProblems('x.tar: layer "undefined" [object Object]', 'x.tar')).toHaveLength(2);
    expect(messageProblems('layer 2: Unexpected error: URI malformed', 'x.tar')).toEqual(['an internal error reached the user']);
    expect(messageProblems('bad header', 'x.tar')).toEqual(['message names neither the input nor a layer']);
    expect(messageProblems(`x.tar: ${'x'.repeat(2000)}`, 'x.tar')).toHaveLength(1);
    expect(cliProblems({ code: 1, stderr: 'strata: x.tar: a\nError: b\n    at f (main.ts:1:2)\n', timedOut: false }, 'x.tar')).toHaveLength(1);
    expect(cliProblems({ code: 134, stderr: '', timedOut: false }, 'x.tar')).toHaveLength(1);
    expect(cliProblems({ code: 0, stderr: 'warning\n', timedOut: false }, 'x.tar')).toHaveLength(1);
  });

  test('a case that hangs, aborts its process or holds 600 MB is reported, and the next case still runs', async () => {
    const p = new FuzzProcess();
    try {
      const run = (what: string) => p.run({ target: 'core', seed: 0, index: 0, input: { name: 'x.tar', bytes: new Uint8Array(0), what } }, 3000);
      expect((await run('selftest: hang')).problems).toEqual(['hang: no result after 3 s']);
      expect((await run('selftest: abort')).problems[0]).toMatch(/^the case crashed its process: exited with SIGABRT/);
      expect((await run('selftest: memory')).problems[0]).toMatch(/^memory: \d+ MB more while the case ran/);
      expect((await run('empty input')).outcome).toMatch(/^NOT_AN_IMAGE: x\.tar is empty/);
    } finally {
      p.close();
    }
  }, 60_000);

  test('size fields that say 8 GiB or 2^40 allocate nothing: each case ends in one error within the memory bound', async () => {
    const p = new FuzzProcess();
    const file = (name: string, size: Uint8Array | string) => {
      const h = header({ name, size });
      return concat([h, new TextEncoder().encode('short'), new Uint8Array(507)]);
    };
    const inputs: [string, Uint8Array, RegExp][] = [
      // a path the analysis captures while decoding: the capture must not trust the size
      ['a dpkg status file of 8 GiB', file('var/lib/dpkg/status', octal(2 ** 33 - 1, 12)), /^TAR_TRUNCATED: /],
      ['a PAX header of 8 GiB', concat([header({ name: 'p', typeflag: 'x', size: octal(2 ** 33 - 1, 12) }), new Uint8Array(1024)]), /^TAR_BAD_HEADER: .*implausibly large/],
      ['a GNU long name of 2^40 bytes', concat([header({ name: '././@LongLink', typeflag: 'L', size: base256(2n ** 40n, 12) }), new Uint8Array(1024)]), /^TAR_BAD_HEADER: .*implausibly large/],
      ['a file of 2^52 bytes', file('big', base256(2n ** 52n, 12)), /^TAR_TRUNCATED: /],
    ];
    try {
      for (const [what, layerTar, want] of inputs) {
        for (const compress of ['none', 'gzip'] as const) {
          const bytes = ociArchive({ layers: [layerTar], compress });
          const r = await p.run({ target: 'core', seed: 0, index: 0, input: { name: 'big.tar', bytes, what } }, 15_000);
          expect(r.problems, what).toEqual([]);
          expect(r.outcome, what).toMatch(want);
          expect(r.extraMB, what).toBeLessThan(100);
        }
      }
    } finally {
      p.close();
    }
  }, 60_000);

  test('digests fixed up after a layer change: the CLI verifies the archive; left stale, it refuses it', async () => {
    const f = fixtures().find((x) => x.name === 'generated/edge.oci.tar')!;
    const o = parseOuter(f.inner)!;
    const layer = o.members.find((m) => m.kind === 'layer-gzip')!;
    const raw = decompress(layer.kind, layer.data)!;
    // same content, recompressed at another level: another compressed digest, the same diff_id
    setData(layer, compress(layer.kind, raw, rng(1))!);
    const stale = join(dir, 'stale.tar');
    writeFileSync(stale, serialize(o));
    fixup(o, new Map());
    const fixed = join(dir, 'fixed.tar');
    writeFileSync(fixed, serialize(o));
    const bad = await strata(['flatten', stale, '-o', join(dir, 'stale-out.tar')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/compressed digest is sha256:[0-9a-f]{64} but the manifest says/);
    expect(await strata(['flatten', fixed, '-o', join(dir, 'fixed-out.tar')])).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);

  test('a JSON member nested too deep to write back is cut short, not a crash of the fuzzer (seed 2053759015, case 1497)', () => {
    // an earlier step of the case left 60 000 levels: JSON.parse reads them, JSON.stringify overflowed
    const deep = `{"a":${'['.repeat(60_000)}1${']'.repeat(60_000)}}`;
    for (let i = 0; i < 20; i++) {
      const m = mutateJson(rng(i), deep);
      expect(typeof m.text).toBe('string');
      expect(m.what).toMatch(/\S/);
    }
  });

  test('a seed and case number always make the same input', () => {
    const a = makeCase(7, 42), b = makeCase(7, 42);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.steps).toEqual(b.steps);
    expect(Buffer.from(makeCase(7, 43).bytes).equals(Buffer.from(a.bytes))).toBe(false);
  });

  test('the built fixtures hold every dialect the mutations work on', async () => {
    const b = fixtures().filter((f) => f.name.startsWith('built/'));
    expect(b.map((f) => f.name)).toEqual(['built/dialects.docker.tar', 'built/dialects.oci.tar', 'built/rootfs.tar.gz']);
    const img = join(dir, 'dialects.tar');
    writeFileSync(img, b[0].bytes);
    const r = await strata(['ls', img]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const p of ['/gnu/long/long', '/base256', '/big-ids', '/dev/null', '/bin/hard', '/app/new']) expect(r.stdout).toContain(p);
  });
});
