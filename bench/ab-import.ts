// A/B of two builds of the bench page, import only: `npx tsx bench/ab-import.ts SITE_A SITE_B ARCHIVE ROUNDS [FLAGS]`.
// Build each variant first (`npx tsx -e "import('vite').then(v => v.build({ configFile: 'bench/vite.config.ts',
// build: { outDir: process.cwd() + '/.bench/site-a' } }))"`, change the code, again into site-b). Each round
// imports ARCHIVE once with each build, alternately, each in a fresh Chromium with an empty profile, as the app
// does after a drop (inspect, import, open, root listed), and prints both times; at the end the medians.
// FLAGS: two characters, '1' = that side's pool without its spare worker (e.g. 10: A without, B with).
// Used for the 256 MiB puts and the spare worker (README, 2026-12-01).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { tmpdir } from 'node:os';
import { execSync } from 'node:child_process';
import { serve } from './compare-step.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/browser/site.ts';

const [A, B, archive, roundsS, spareFlags] = process.argv.slice(2);
const sites = await Promise.all([A, B].map((root) => serve(resolve(root))));
const noSpare = (spareFlags ?? '00').split('').map((c) => c === '1');
const res: Record<string, number[][]> = { A: [], B: [] };
for (let r = 0; r < Number(roundsS); r++) {
  for (const [k, site, ns] of [['A', sites[0], noSpare[0]], ['B', sites[1], noSpare[1]]] as const) {
    const profile = mkdtempSync(join(tmpdir(), 'strata-ab-'));
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = ctx.pages()[0] ?? await ctx.newPage();
    page.on('pageerror', (e) => console.log('pageerror', e.message));
    await page.goto(site.url);
    await page.waitForFunction(() => 'strataBench' in globalThis);
    if (ns) await page.evaluate('strataBench.setSpare(false)');
    await page.setInputFiles('#archive', archive);
    execSync('sync');
    await new Promise((r) => setTimeout(r, 1500));
    const out: any = await page.evaluate('strataBench.importArchive(undefined, true)');
    res[k].push([Math.round(out.ms), Math.round(out.firstRowMs)]);
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
  console.log(`round ${r + 1}: A ${res.A.at(-1)!.join('/')}  B ${res.B.at(-1)!.join('/')}`);
}
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (const k of ['A', 'B']) console.log(k, 'import median', med(res[k].map((x) => x[0])), 'first row median', med(res[k].map((x) => x[1])), 'all', res[k].map((x) => x[0]).join(' '));
for (const s of sites) s.server.close();
