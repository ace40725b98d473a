// The bugs the fuzzer found (found.ts), each as its hand-built input through the core as the browser
// runs it and through the browser's import into IndexedDB, in a worker process with a timeout (two
// of them hung, one aborted Node). The CLI runs them in test/cli/bad-input.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decompressTo } from '../../src/core/compress/decompress.ts';
import { gzip, tar } from '../helpers/build.ts';
import { strata } from '../helpers/cli.ts';
import { FOUND, FOUND_IMPORTS, type Found } from './found.ts';
import { FuzzProcess } from './harness.ts';
import { MESSAGE_LIMIT } from './invariants.ts';
import { writtenTarProblems } from './tar-blocks.ts';

const proc = new FuzzProcess();
const dir = mkdtempSync(join(tmpdir(), 'strata-found-'));
afterAll(() => { proc.close(); rmSync(dir, { recursive: true, force: true }); });

const run = (f: Found, target: 'core' | 'storage') =>
  proc.run({ target, seed: 0, index: 0, input: { name: f.name, bytes: f.build(), what: f.what } }, 15_000);

describe.each(['core', 'storage'] as const)('%s', (target) => {
  test.each(FOUND.map((f) => [f.what, f] as const))('%s: one clear error', async (_what, f) => {
    const r = await run(f, target);
    expect(r.problems).toEqual([]);
    expect(r.outcome.startsWith(`${f.code}: `)).toBe(true);
    expect(r.outcome.slice(f.code!.length + 2)).toMatch(f.message!);
  });

  test.each(FOUND_IMPORTS.map((f) => [f.what, f] as const))('%s: imports (and analyses, exports a portable tar)', async (_what, f) => {
    const r = await run(f, target);
    expect(r.problems).toEqual([]);
    expect(r.outcome).toMatch(target === 'core' ? /^imported: / : /^stored: /);
  });
});

describe('CLI', () => {
  const path = (f: Found) => { const p = join(dir, f.name); writeFileSync(p, f.build()); return p; };
  const [longDiffId, objectDiffId, hugeMtime] = FOUND_IMPORTS;

  test('a 2 000-character diff_id: the mismatch is one short line', async () => {
    const r = await strata(['flatten', path(longDiffId), '-o', join(dir, 'out.tar')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: long-diffid\.tar: layer 1 of 1 .*rootfs\.diff_ids says "x+…x+"\. The archive is corrupt/);
    expect(r.stderr.length).toBeLessThan(MESSAGE_LIMIT);
  });

  test('a diff_id that is an object: the mismatch quotes its JSON', async () => {
    const r = await strata(['flatten', path(objectDiffId), '-o', join(dir, 'out.tar')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: object-diffid\.tar: layer 1 of 1 .*rootfs\.diff_ids says \{"a":1\}\. The archive is corrupt/);
  });

  test('a PAX mtime of 1e300: the flattened tar says it in POSIX decimal', async () => {
    const out = join(dir, 'mtime.tar');
    expect(await strata(['flatten', path(hugeMtime), '-o', out])).toMatchObject({ code: 0, stderr: '' });
    const flat = new Uint8Array(readFileSync(out));
    expect(writtenTarProblems(flat)).toEqual([]);
    expect(Buffer.from(flat).toString('latin1')).toMatch(/ mtime=1\d{300}\n/); // 1e300 written out: 301 digits
  });
});

test('seed 2 case 1198: when the sink throws (any error), gzip is not decoded again into it', async () => {
  const layer = gzip(tar([{ name: 'a', data: 'x'.repeat(100_000) }]));
  let calls = 0;
  const sink = () => { calls++; throw new TypeError('the tar reader failed'); };
  const open = () => new Blob([layer as Uint8Array<ArrayBuffer>]).stream();
  await expect(decompressTo(open, 'gzip', sink, { what: 'layer 1' })).rejects.toThrow(TypeError);
  expect(calls).toBe(1);
});
