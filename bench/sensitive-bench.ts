// Throughput and findings of the sensitive-file rules over this machine's own files (every
// regular file ≤ 1 MiB under the roots), the way the analysis calls them: name rules on every
// path, the content scan on every file's bytes. Files are read before the clock starts.
// Usage: npx tsx bench/sensitive-bench.ts [--repeat=5] [--roots=/usr/share,/etc] [--all]
//   --all  list every finding (default: every finding not marked sample, and sample counts)

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { CONTENT_SCAN_LIMIT, BINARY_SNIFF_BYTES, findSensitive, scanContent, sensitiveByName, type SensitiveHit } from '../src/core/analysis/sensitive.ts';

const DEFAULT_ROOTS = ['/usr/share', '/usr/include', '/usr/lib/python3', '/usr/lib/python3.11', '/etc'];
const MB = 1e6;

interface Options { repeat: number; roots: string[]; all: boolean }

function parseOptions(argv: string[]): Options {
  const o: Options = { repeat: 5, roots: DEFAULT_ROOTS, all: false };
  for (const a of argv) {
    if (a.startsWith('--repeat=')) o.repeat = Number(a.slice('--repeat='.length));
    else if (a.startsWith('--roots=')) o.roots = a.slice('--roots='.length).split(',').filter(Boolean);
    else if (a === '--all') o.all = true;
    else throw new Error(`unknown option ${a} (usage: --repeat=N --roots=a,b --all)`);
  }
  if (!Number.isInteger(o.repeat) || o.repeat < 1) throw new Error('--repeat needs a whole number ≥ 1');
  return o;
}

interface File { path: string; bytes: Uint8Array }

/** regular files only (symlinks are not followed), unreadable ones skipped */
function collect(roots: string[]): File[] {
  const files: File[] = [];
  const walk = (dir: string): void => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          if (statSync(p).size <= CONTENT_SCAN_LIMIT) files.push({ path: p, bytes: new Uint8Array(readFileSync(p)) });
        } catch { /* unreadable: not part of the corpus */ }
      }
    }
  };
  for (const r of roots) walk(r);
  return files;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const o = parseOptions(process.argv.slice(2));
  const files = collect(o.roots);
  const total = files.reduce((s, f) => s + f.bytes.length, 0);
  const text = files.filter((f) => f.bytes.subarray(0, BINARY_SNIFF_BYTES).indexOf(0) === -1);
  const textBytes = text.reduce((s, f) => s + f.bytes.length, 0);
  console.log(`corpus: ${o.roots.join(' ')}: ${files.length} files ≤ 1 MiB, ${(total / MB).toFixed(1)} MB; `
    + `${text.length} text files, ${(textBytes / MB).toFixed(1)} MB`);
  console.log(`machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const contentRuns: number[] = [];
  const nameRuns: number[] = [];
  let contentHits = 0;
  for (let r = 0; r < o.repeat; r++) {
    contentRuns.push(time(() => { contentHits = 0; for (const f of files) contentHits += scanContent(f.bytes, f.path).length; }));
    nameRuns.push(time(() => { for (const f of files) sensitiveByName(f.path); }));
  }
  const rate = (bytes: number, s: number) => (bytes / MB / s).toFixed(0);
  console.log(`scanContent, all files: best ${rate(total, Math.min(...contentRuns))} MB/s, median ${rate(total, median(contentRuns))} MB/s `
    + `(text files are ${((textBytes / total) * 100).toFixed(0)}% of the bytes; binary ones stop at the NUL check)`);
  console.log(`scanContent, per text byte: best ${rate(textBytes, Math.min(...contentRuns))} MB/s, median ${rate(textBytes, median(contentRuns))} MB/s`);
  const textOnly: number[] = [];
  for (let r = 0; r < o.repeat; r++) textOnly.push(time(() => { for (const f of text) scanContent(f.bytes, f.path); }));
  console.log(`scanContent, text files only: best ${rate(textBytes, Math.min(...textOnly))} MB/s, median ${rate(textBytes, median(textOnly))} MB/s`);
  console.log(`sensitiveByName: ${(files.length / Math.min(...nameRuns) / 1e6).toFixed(2)} M paths/s`);
  console.log(`content hits (one per rule per file): ${contentHits}`);

  const findings: { path: string; hit: SensitiveHit }[] = [];
  for (const f of files) for (const hit of findSensitive(f.path, f.bytes)) findings.push({ path: f.path, hit });
  const real = findings.filter((x) => !x.hit.sample);
  const samples = findings.filter((x) => x.hit.sample);
  console.log(`\nfindings (findSensitive): ${findings.length}: ${real.length} unmarked, ${samples.length} marked sample`);
  const byRule = new Map<string, number>();
  for (const x of findings) byRule.set(x.hit.rule + (x.hit.sample ? ' (sample)' : ''), (byRule.get(x.hit.rule + (x.hit.sample ? ' (sample)' : '')) ?? 0) + 1);
  for (const [rule, n] of [...byRule].sort()) console.log(`  ${rule}: ${n}`);
  console.log('\nunmarked findings:');
  for (const x of real) console.log(`  ${x.path}  [${x.hit.rule}] ${x.hit.reason}`);
  if (o.all) {
    console.log('\nsample findings:');
    for (const x of samples) console.log(`  ${x.path}  [${x.hit.rule}] ${x.hit.reason}`);
  }
}

main();
