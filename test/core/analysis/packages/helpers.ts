// Shared by the package cataloger tests: fixture paths, live tools, error assertions.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { CatalogError, type RangeRead } from '../../../../src/core/analysis/packages/types.ts';

export const FIXTURES = join(import.meta.dirname, '../../../fixtures/packages');

export function fixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, rel)));
}

export function fixtureText(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}

export function gunzipFixture(rel: string): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, rel))));
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Whether a command is on PATH. */
export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
}

/** Runs `fn`, which must throw a CatalogError whose message matches `message`. */
export function expectCatalogError(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a CatalogError').toBeInstanceOf(CatalogError);
  expect((thrown as Error).message).toMatch(message);
}

export async function expectCatalogErrorAsync(fn: () => Promise<unknown>, message: RegExp): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a CatalogError').toBeInstanceOf(CatalogError);
  expect((thrown as Error).message).toMatch(message);
}

export function bytesRangeRead(b: Uint8Array): RangeRead {
  return async (offset, length) => b.slice(offset, offset + length);
}

/** A RangeRead over a file on disk, counting what it reads; close() when done. */
export function fileRangeRead(path: string): { read: RangeRead; size: number; bytesRead: () => number; close: () => void } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  let total = 0;
  return {
    size,
    read: async (offset, length) => {
      const b = new Uint8Array(length);
      const n = readSync(fd, b, 0, length, offset);
      total += n;
      return b.subarray(0, n);
    },
    bytesRead: () => total,
    close: () => closeSync(fd),
  };
}

/** The best of a few timings, in ms (the first run pays for JIT warm-up). */
export function bestTime(fn: () => void, runs = 5): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}
