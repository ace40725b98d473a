// Screenshots of the Analysis view over the in-memory engine (the web-app test image and its
// hand-built analysis), light and dark. Writes docs/screenshot-analysis.png (light) and
// docs/screenshot-analysis-dark.png, or into the folder given.
// Run: npx tsx test/app/screenshot-analysis.ts [out-dir] [width] [height]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, startHarness } from './browser.ts';

const out = process.argv[2] ?? join(import.meta.dirname, '../../docs');
const width = Number(process.argv[3] ?? 1400), height = Number(process.argv[4] ?? 900);
mkdirSync(out, { recursive: true });
const h = await startHarness();
try {
  for (const scheme of ['light', 'dark'] as const) {
    const { page, errors } = await openPage(h, { colorScheme: scheme });
    await page.setViewportSize({ width, height });
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'webapp.tar'));
      for (const type of ['dragenter', 'dragover', 'drop']) window.dispatchEvent(new DragEvent(type, { dataTransfer: dt, cancelable: true }));
    });
    await page.getByRole('tree').waitFor();
    await page.getByRole('button', { name: 'Analysis', exact: true }).click();
    await page.getByText('Wasted space').first().waitFor();
    await page.mouse.move(0, 0);
    const file = join(out, scheme === 'light' ? 'screenshot-analysis.png' : 'screenshot-analysis-dark.png');
    await page.screenshot({ path: file });
    console.log(`wrote ${file}`);
    // --sections: one more picture per part of the view, scrolled to it
    for (const section of process.argv.includes('--sections') ? ['waste', 'hidden', 'packages', 'warnings'] : []) {
      await page.evaluate((s) => document.getElementById(`analysis-${s}`)!.scrollIntoView(), section);
      await page.screenshot({ path: join(out, `analysis-${scheme}-${section}.png`) });
    }
    const bad = errors.filter((e) => !e.startsWith('Failed to load resource')); // the harness has no favicon
    if (bad.length) throw new Error(`the page reported errors:\n${bad.join('\n')}`);
    await page.close();
  }
} finally {
  await h.close();
}
