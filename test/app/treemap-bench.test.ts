// The Analysis view's treemap over 65,536 files in Chromium: layout (d3 squarify over the FileTree)
// plus drawing on a canvas cover the canvas and every file. Its speed target (≤ 200 ms) is proven by
// `npm run bench:browser`, which times the same page code; the figures are only printed here.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHarness, type Harness } from './browser.ts';
import type { BenchResult } from './harness/treemap-bench.ts';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

test('treemap of 65,536 files: layout + draw in Chromium', async () => {
  const page = await h.browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(h.url + 'treemap-bench.html');
  await page.waitForFunction(() => 'treemapBench' in window);
  const r = await page.evaluate((n) => (window as unknown as { treemapBench: (n: number) => BenchResult }).treemapBench(n), 65_536);
  const sorted = [...r.warm].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`treemap, 65,536 files (${r.rects} rectangles) at 1200×600: first ${r.cold[0].toFixed(0)} ms (with the layer's liveness), ` +
    `then best ${sorted[0].toFixed(0)} ms, median ${median.toFixed(0)} ms of ${r.warm.length} (${r.warm.map((x) => x.toFixed(0)).join(', ')}); ` +
    `parts (medians): data tree ${r.parts.data.toFixed(0)} ms, layout with it ${r.parts.layout.toFixed(0)} ms, drawing ${r.parts.draw.toFixed(0)} ms; ` +
    `test tree built in ${r.build.toFixed(0)} ms`);
  expect(errors).toEqual([]);
  expect(r.files).toBe(65_536);
  expect(r.drawnShare).toBeGreaterThan(0.9);
  expect(r.rects).toBeGreaterThanOrEqual(r.files);
});
