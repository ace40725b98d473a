// scripts/screenshots.ts must keep working: take the docs screenshots into a temp folder.
import { readFileSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { SHOTS, takeScreenshots } from './screenshots.ts';
import { tempDir } from './site.ts';

const out = tempDir('shots-out');
afterAll(() => out.remove());

test('the documentation screenshots can be taken (landing, tree, image, stored, compare)', async () => {
  const files = await takeScreenshots(out.dir, { width: 1200, height: 760 });
  expect(files.map((f) => f.split('/').pop())).toEqual([...SHOTS]);
  const pngs = files.map((f) => readFileSync(f));
  for (const png of pngs) {
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 760]);
  }
  expect(new Set(pngs.map((p) => p.toString('base64'))).size).toBe(SHOTS.length);
});
