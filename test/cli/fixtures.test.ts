// Every shared fixture with an expected listing: flatten with the CLI, compare independently.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FIXTURES, checkFlatten, strata } from '../helpers/cli.ts';

const out = mkdtempSync(join(tmpdir(), 'strata-fx-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const gen = join(FIXTURES, 'generated');
const peers = join(FIXTURES, 'peers');

const cases: [string, string, string?][] = [
  ...['edge.docker.tar', 'edge.docker.tar.gz', 'edge.oci.tar', 'edge.oci-zstd.tar'].map(
    (f): [string, string, string] => [join(gen, f), join(gen, 'edge.expected.tsv'), join(gen, 'edge.expected-extra.tsv')]),
  ...readdirSync(join(peers, 'expected')).filter((f) => f.endsWith('.expected.tsv')).map((f): [string, string, string?] => {
    const base = f.replace(/\.expected\.tsv$/, '');
    const extra = join(peers, 'expected', `${base}.expected-extra.tsv`);
    return [join(peers, `${base}.tar`), join(peers, 'expected', f), existsSync(extra) ? extra : undefined];
  }),
];

describe('flatten matches the expected listing (check-flatten.sh)', () => {
  test('there are fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(20));
  test.concurrent.each(cases)('%s', async (image, expected, extra) => {
    const flat = join(out, image.split('/').pop() + '.flat.tar');
    const r = await strata(['flatten', image, '-o', flat]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const check = await checkFlatten(flat, expected, extra);
    expect(check.stdout + check.stderr).toMatch(/^identical: \d+ paths/);
    expect(check.code).toBe(0);
  });
});
