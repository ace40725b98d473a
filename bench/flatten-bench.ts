// `npm run bench`: wall time and peak RSS of `strata flatten` against native extraction of the
// same layers (tar -xzf, umoci unpack), on each bench image: the synthetic ≥ 1 GB one and the
// real-content ones of issue 12 (this machine's trees written by umoci/skopeo, the same layers by
// gzip -6, their docker-archive, a gzip-wrapped plain rootfs), all built once under .bench/.
// Usage: npm run bench [-- --images=synthetic,text-go,…] [-- --rebuild] [-- --keep] [-- --repeat=3]
//        [-- --strata-args="--jobs 1"] [-- --squash=synthetic|all|none]

import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { describeImage, getImages, IMAGE_KEYS, parseImageKeys, type BenchImage, type ImageKey } from './lib/images.ts';
import { checkOutput, mergeListings, type OutputCheck } from './lib/listing.ts';
import { markdownTable } from './lib/table.ts';
import {
  BenchError, combine, hasGnuTime, measure, removeTree, run, syncDisks, versionOf, which, type Measurement,
} from './lib/proc.ts';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'src', 'cli', 'main.ts');
/** what `npm run strata` runs: the esbuild bundle of the CLI (built on first use) */
const LAUNCHER = join(REPO, 'scripts', 'strata.mjs');
const RSS_TARGET_MB = 300;
const MB = 1e6;
const MiB = 1 << 20;

const log = (s = ''): void => console.log(s);
const fmt = (n: number | undefined, d = 2): string => (n === undefined ? 'n/a' : n.toFixed(d));

type SquashOn = 'synthetic' | 'all' | 'none';
interface Options { rebuild: boolean; keep: boolean; repeat: number; strataArgs: string[]; images: ImageKey[]; squash: SquashOn }

function parseOptions(argv: string[]): Options {
  const o: Options = { rebuild: false, keep: false, repeat: 1, strataArgs: [], images: [...IMAGE_KEYS], squash: 'synthetic' };
  for (const a of argv) {
    if (a === '--help' || a === '-h') usage();
    else if (a === '--rebuild') o.rebuild = true;
    else if (a === '--keep') o.keep = true;
    else if (a.startsWith('--repeat=')) o.repeat = Number(a.slice('--repeat='.length));
    else if (a.startsWith('--strata-args=')) o.strataArgs = a.slice('--strata-args='.length).split(' ').filter(Boolean);
    else if (a.startsWith('--images=')) o.images = parseImageKeys(a.slice('--images='.length));
    else if (a.startsWith('--squash=')) {
      const v = a.slice('--squash='.length);
      if (v !== 'synthetic' && v !== 'all' && v !== 'none') throw new BenchError('--squash takes synthetic, all or none');
      o.squash = v;
    } else throw new BenchError(`unknown option ${a} (try --help)`);
  }
  if (!Number.isInteger(o.repeat) || o.repeat < 1) throw new BenchError('--repeat needs a whole number ≥ 1');
  return o;
}

function usage(): never {
  log('usage: npm run bench [-- --images=LIST] [-- --rebuild] [-- --keep] [-- --repeat=N] [-- --strata-args="--jobs 1"] [-- --squash=WHERE]');
  log(`  --images=LIST    comma-separated, default all: ${IMAGE_KEYS.join(',')}`);
  log('  --rebuild        build the selected images again even if .bench/ has them');
  log('  --keep           keep the temp dir (layer listings, logs; extracted trees and outputs are always deleted)');
  log('  --repeat=N       run the contenders N times round-robin and keep each one\'s fastest run (default 1)');
  log('  --strata-args=…  extra arguments for `strata flatten`, split on spaces');
  log('  --squash=WHERE   run strata squash (plain and gzip) on the synthetic image (default), on all images, or none');
  process.exit(0);
}

// ---- setup ------------------------------------------------------------------------------------

function checkTools(): { useTime: boolean; umoci: boolean } {
  for (const tool of ['tar', 'gzip', 'sha256sum']) {
    if (!which(tool)) throw new BenchError(`${tool} is required (apt-get install -y tar gzip coreutils)`);
  }
  if (!(versionOf('tar') ?? '').includes('GNU')) throw new BenchError('GNU tar is required to build the image');
  const useTime = hasGnuTime();
  if (!useTime) log('! GNU time (/usr/bin/time) is missing, so peak RSS is not measured: apt-get install -y time');
  const umoci = which('umoci') !== undefined;
  const missing = ['umoci', 'skopeo'].filter((t) => !which(t));
  if (missing.length) {
    log(`! ${missing.join(' and ')} not installed: ${umoci ? '' : 'no umoci baseline, '}` +
      `the image is not cross-validated by ${missing.join('/')}. To add: apt-get install -y ${missing.join(' ')}`);
  }
  return { useTime, umoci };
}

function describeMachine(): void {
  const cpu = cpus();
  log(`machine: ${cpu[0]?.model ?? '?'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}`);
  log(`tools:   node ${process.version}; ${versionOf('tar')}; ${versionOf('gzip')}; ${versionOf('umoci') ?? 'no umoci'}`);
}

/** The bench shares the machine: a busy machine makes walls noisy, so say so next to the numbers. */
function loadNote(when: string): number {
  const [one = 0] = loadavg();
  const cores = cpus().length;
  const busy = one > 0.5 * cores;
  log(`load:    ${when}: 1-min load average ${fmt(one)} on ${cores} cores${busy ? ' — other work is running, walls are noisy; CPU s is steadier' : ''}`);
  return one;
}

// ---- contenders -------------------------------------------------------------------------------

interface Contender {
  name: string;
  note: string;
  /** One timed run, including its untimed cleanup (see settle). */
  run: (rep: number) => Promise<Measurement>;
}

interface Row { name: string; note: string; m?: Measurement; error?: string }

/**
 * Delete a contender's output and flush before the next one starts: ext4 here is mounted with
 * `discard`, and writeback or discards left by one contender must not land on the next one's clock.
 */
function settle(...paths: string[]): void {
  for (const p of paths) removeTree(p);
  syncDisks();
}

/** One after another: these are timed, so they must not overlap. */
async function sequential<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const job of jobs) out.push(await job());
  return out;
}

/** Keep the fastest run's wall and CPU; peak RSS is the worst seen over all runs. */
function best(ms: Measurement[]): Measurement {
  const fastest = ms.reduce((a, b) => (b.wallS < a.wallS ? b : a));
  const rss = ms.map((m) => m.peakRssMb).filter((r): r is number => r !== undefined);
  return { ...fastest, peakRssMb: rss.length ? Math.max(...rss) : undefined };
}

/** Run every contender `repeat` times, round-robin so drifting machine load hits all alike. */
async function runAll(contenders: Contender[], repeat: number): Promise<Row[]> {
  const runs = contenders.map(() => [] as Measurement[]);
  const errors: (string | undefined)[] = contenders.map(() => undefined);
  for (let rep = 0; rep < repeat; rep++) {
    for (const [i, c] of contenders.entries()) {
      if (errors[i]) continue;
      log(`running: ${c.name}${repeat > 1 ? ` (${rep + 1}/${repeat})` : ''}…`);
      try {
        const m = await c.run(rep);
        log(`         ${fmt(m.wallS)} s wall, ${fmt(m.cpuS, 1)} s CPU, peak RSS ${fmt(m.peakRssMb, 1)} MB`);
        if (m.threads !== undefined) log(`         CPU s by thread: ${m.threads || '(none sampled)'}`);
        runs[i]!.push(m);
      } catch (err) {
        errors[i] = err instanceof Error ? err.message : String(err);
        log(`  FAILED: ${errors[i]}`);
      }
    }
  }
  return contenders.map((c, i) => ({
    name: c.name,
    note: c.note,
    ...(errors[i] ? { error: errors[i] } : { m: best(runs[i]!) }),
  }));
}

interface Ctx { img: BenchImage; tmp: string; blobs: string[]; useTime: boolean; logFile: string; timeFile: string }

const gzipped = (img: BenchImage): boolean => img.layers.every((l) => l.compression === 'gzip');
const layersWord = (img: BenchImage): string => (img.kind === 'rootfs' ? 'the wrapped rootfs' : `${img.layers.length} layers`);

function listing(ctx: Ctx, lists: string[], done: () => void): Contender {
  const { img, blobs, logFile, timeFile, useTime } = ctx;
  const gz = gzipped(img);
  return {
    name: `${gz ? 'gzip -dc | tar t' : 'tar -tf'} (${layersWord(img)})`,
    note: `reference: ${gz ? 'decompress + ' : ''}parse only`,
    run: async () => {
      const ms = await sequential(blobs.map((b, i) => () =>
        measure('sh', ['-c', gz ? 'gzip -dc "$1" | tar -t > "$2"' : 'tar -tf "$1" > "$2"', 'sh', b, lists[i]!], { logFile, timeFile, useTime })));
      settle();
      done();
      return combine(ms);
    },
  };
}

/** Each layer into its own fresh dir: plain tar knows no whiteouts, and L4 replaces a directory with a file. */
function tarExtract(ctx: Ctx): Contender {
  const { img, blobs, tmp, logFile, timeFile, useTime } = ctx;
  const flag = gzipped(img) ? '-xzf' : '-xf';
  return {
    name: `tar ${flag} (${layersWord(img)}${blobs.length > 1 ? ', sequential' : ''})`,
    note: blobs.length > 1 ? 'each layer into a fresh dir, walls summed' : 'into a fresh dir',
    run: async () => {
      const dirs = blobs.map((_, i) => join(tmp, `tar-layer-${i + 1}`));
      for (const d of dirs) mkdirSync(d);
      try {
        const ms = await sequential(blobs.map((b, i) => () => measure('tar', [flag, b, '-C', dirs[i]!], { logFile, timeFile, useTime })));
        log(`         per layer: ${ms.map((m) => fmt(m.wallS)).join(' + ')} s`);
        return combine(ms);
      } finally {
        settle(...dirs);
      }
    },
  };
}

function umociUnpack(ctx: Ctx, layout: { dir: string; ref: string }): Contender {
  const { tmp, logFile, timeFile, useTime } = ctx;
  const bundle = join(tmp, 'umoci-bundle');
  return {
    name: 'umoci unpack',
    note: 'applies whiteouts, writes config.json + mtree',
    run: async () => {
      try {
        return await measure('umoci', ['unpack', '--image', `${layout.dir}:${layout.ref}`, bundle], { logFile, timeFile, useTime });
      } finally {
        settle(bundle);
      }
    },
  };
}

/** What node costs before strata does anything: read the CLI's RSS against it. */
function runtimeFloor(ctx: Ctx): Contender {
  const { tmp, logFile, timeFile, useTime } = ctx;
  const empty = join(tmp, 'empty.mjs');
  writeFileSync(empty, 'export {};\n');
  return {
    name: 'node (empty script)',
    note: 'reference: runtime floor of the CLI',
    run: () => measure(process.execPath, [empty], { cwd: REPO, logFile, timeFile, useTime }),
  };
}

interface StrataCheck { check?: OutputCheck; outBytes?: number }

/**
 * `node scripts/strata.mjs` (what `npm run strata` runs) — not npm itself, so the measured process
 * is the one doing the work. The first run's output is checked, then deleted.
 */
function strataFlatten(ctx: Ctx, extra: string[], expected: () => Set<string> | undefined, result: StrataCheck): Contender {
  const { img, tmp, useTime } = ctx;
  const out = join(tmp, 'flat.tar');
  const args = [LAUNCHER, 'flatten', img.archive, '-o', out, ...extra];
  return {
    name: 'strata flatten',
    note: `node scripts/strata.mjs flatten ${extra.join(' ')}`.trim(),
    run: async (rep) => {
      try {
        const m = await measure(process.execPath, args, { cwd: REPO, logFile: join(tmp, 'strata.log'), timeFile: join(tmp, 'strata.time'), useTime, threads: true });
        if (rep === 0) {
          result.outBytes = statSync(out).size;
          let lines: string[];
          try {
            lines = run('tar', ['-tf', out]).split('\n');
          } catch (err) {
            throw new BenchError(`the output is not a readable tar: ${err instanceof Error ? err.message : String(err)}`);
          }
          const exp = expected();
          result.check = exp ? checkOutput(lines, exp) : undefined;
          log(`         output: valid tar, ${(result.outBytes / MiB).toFixed(0)} MiB, ${lines.filter(Boolean).length} entries`);
        }
        return m;
      } finally {
        settle(out);
      }
    },
  };
}

/**
 * `strata squash` (keep 0: the whole filesystem as one layer of an OCI archive), gzip or not. The
 * issue's target is the uncompressed one within 1.2× of `strata flatten`; the gzip layer costs what
 * deflate costs and is reported beside it. The first run's layer is listed and checked like flatten's.
 */
function strataSquash(ctx: Ctx, compress: boolean, expected: () => Set<string> | undefined, result: StrataCheck): Contender {
  const { img, tmp, useTime } = ctx;
  const out = join(tmp, compress ? 'squashed-gz.tar' : 'squashed.tar');
  const args = [LAUNCHER, 'squash', img.archive, '-o', out, '--format', 'oci', '--created', '2024-01-01T00:00:00Z', ...(compress ? [] : ['--no-compress'])];
  return {
    name: `strata squash${compress ? ' (gzip)' : ''}`,
    note: `node scripts/strata.mjs squash --format oci${compress ? '' : ' --no-compress'}`,
    run: async (rep) => {
      try {
        const m = await measure(process.execPath, args, { cwd: REPO, logFile: join(tmp, 'squash.log'), timeFile: join(tmp, 'squash.time'), useTime });
        if (rep === 0) {
          result.outBytes = statSync(out).size;
          const index = JSON.parse(run('tar', ['-xOf', out, 'index.json'])) as { manifests: { digest: string }[] };
          const manifest = JSON.parse(run('tar', ['-xOf', out, `blobs/sha256/${index.manifests[0]!.digest.slice(7)}`])) as { layers: { digest: string; size: number }[] };
          const layer = manifest.layers[0]!;
          const lines = run('sh', ['-c', `tar -xOf "$1" "$2" | tar -t${compress ? 'z' : ''}`, 'sh', out, `blobs/sha256/${layer.digest.slice(7)}`]).split('\n');
          const exp = expected();
          result.check = exp ? checkOutput(lines, exp) : undefined;
          log(`         output: OCI archive ${(result.outBytes / MiB).toFixed(0)} MiB, squashed layer ${(layer.size / MiB).toFixed(0)} MiB, ${lines.filter(Boolean).length} entries`);
        }
        return m;
      } finally {
        settle(out);
      }
    },
  };
}

/** What `strata analyze` spends beyond decoding the layers (its own STRATA_TIMINGS report). */
export interface AnalyzeTimes { loadMs: number; analysisMs: number; phases: string; packages: number; sensitive: number; wasted: number }

/**
 * `strata analyze --json` on the same image. The issue's target is the analysis's extra time over
 * loading the image (decode, verify, spool — what flatten does too), which the CLI reports itself
 * with STRATA_TIMINGS=1; the JSON is checked to be whole.
 */
function strataAnalyze(ctx: Ctx, times: AnalyzeTimes[]): Contender {
  const { img, tmp, useTime } = ctx;
  const json = join(tmp, 'analysis.json');
  return {
    name: 'strata analyze',
    note: 'node scripts/strata.mjs analyze --json (load + analysis)',
    run: async () => {
      const logFile = join(tmp, 'analyze.log');
      const m = await measure('sh', ['-c', 'STRATA_TIMINGS=1 "$0" "$1" analyze "$2" --json > "$3"', process.execPath, LAUNCHER, img.archive, json],
        { cwd: REPO, logFile, timeFile: join(tmp, 'analyze.time'), useTime, threads: true });
      const text = readFileSync(logFile, 'utf8');
      const load = text.match(/timings: load (\d+) ms/), analysis = text.match(/timings: analysis (\d+) ms \(done after: ([^)]*)\)/);
      if (!load || !analysis) throw new BenchError(`strata analyze printed no timings:\n${text.slice(-500)}`);
      const j = JSON.parse(readFileSync(json, 'utf8')) as { packages: unknown[]; sensitive: unknown[]; waste: { wastedBytes: number } };
      times.push({ loadMs: Number(load[1]), analysisMs: Number(analysis[1]), phases: analysis[2]!, packages: j.packages.length, sensitive: j.sensitive.length, wasted: j.waste.wastedBytes });
      log(`         load ${load[1]} ms, analysis ${analysis[1]} ms (${analysis[2]}); ${j.packages.length} packages, ${j.sensitive.length} sensitive files`);
      settle(json);
      return m;
    },
  };
}

// ---- report -----------------------------------------------------------------------------------

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** One target of one image: printed where measured, and again in the summary over all images. */
interface Verdict { label: string; value: string; target: string; ok: boolean }

function say(v: Verdict, out: Verdict[]): void {
  out.push(v);
  log(`${v.label.padEnd(28)}${v.value.padStart(9)}   target ${v.target.padEnd(10)} ${verdict(v.ok)}`);
}

function table(img: BenchImage, rows: Row[], repeat: number): void {
  const mb = img.totalUncompressed / MB;
  log(`\n== ${img.key}: results (${repeat > 1 ? `fastest of ${repeat} runs` : 'each contender run once'}, inputs warm in the page cache) ==`);
  log(`${'contender'.padEnd(40)}${'wall s'.padStart(9)}${'CPU s'.padStart(8)}${'peak RSS MB'.padStart(13)}${'MB/s'.padStart(8)}  note`);
  for (const r of rows) {
    const w = r.m?.wallS;
    const cells = r.error ? `${'FAILED'.padStart(9)}${''.padStart(29)}` :
      `${fmt(w).padStart(9)}${fmt(r.m?.cpuS, 1).padStart(8)}${fmt(r.m?.peakRssMb, 1).padStart(13)}${(w ? fmt(mb / w, 0) : '').padStart(8)}`;
    log(`${r.name.padEnd(40)}${cells}  ${r.note}`);
  }
  log('(MB/s = uncompressed image MB / wall. CPU s = user + sys of the process tree: CPU s > wall s means');
  log(' cores ran in parallel. Peak RSS = the largest single process of the tree, GNU time %M.)');
}

function squashTargets(rows: Row[], checks: [StrataCheck, StrataCheck], out: Verdict[]): void {
  const by = (name: string): Measurement | undefined => rows.find((r) => r.name === name && !r.error)?.m;
  const flat = by('strata flatten');
  const plain = by('strata squash');
  const gz = by('strata squash (gzip)');
  if (!flat || !plain) return;
  const r = plain.wallS / flat.wallS;
  say({ label: 'wall squash / flatten', value: `${r.toFixed(2)}×`, target: '≤ 1.2×', ok: r <= 1.2 }, out);
  if (gz) log(`(info) squash with a gzip layer / flatten ${(gz.wallS / flat.wallS).toFixed(2)}× (${fmt(gz.cpuS, 1)} CPU s: deflate at level 6 on every core)`);
  for (const [i, c] of checks.entries()) {
    if (c.check) say({ label: `squashed layer paths${i ? ' (gzip)' : ''}`, value: String(c.check.actual), target: `= ${c.check.expected}`, ok: c.check.ok }, out);
  }
}

function analyzeTargets(times: AnalyzeTimes[], out: Verdict[]): void {
  if (!times.length) return;
  const best = times.reduce((a, b) => (b.analysisMs < a.analysisMs ? b : a));
  say({ label: 'analysis time (CLI, extra)', value: `${(best.analysisMs / 1000).toFixed(2)} s`, target: '≤ 1.0 s', ok: best.analysisMs <= 1000 }, out);
  log(`(info) strata analyze: load ${(best.loadMs / 1000).toFixed(2)} s, then ${best.phases}; ${best.packages} packages, ${best.sensitive} sensitive files, ${(best.wasted / MiB).toFixed(1)} MiB wasted`);
}

function targets(img: BenchImage, rows: Row[], strataRan: boolean, check: StrataCheck, out: Verdict[]): void {
  const by = (prefix: string): Measurement | undefined => rows.find((r) => r.name.startsWith(prefix) && !r.error)?.m;
  const tarX = by('tar -x');
  const tarName = rows.find((r) => r.name.startsWith('tar -x'))?.name.split(' (')[0] ?? 'tar -xzf';
  const umoci = by('umoci unpack');
  const s = by('strata flatten');
  log(`\n== ${img.key}: targets ==`);
  if (!s) {
    log(`strata flatten: ${strataRan ? 'failed' : 'not measured (no src/cli/main.ts yet)'} — no ratios`);
    out.push({ label: 'strata flatten', value: 'failed', target: 'runs', ok: false });
  } else {
    const ratio = (base: Measurement | undefined, target: number, label: string): void => {
      if (!base) return log(`${label.padEnd(28)} n/a (baseline not measured)`);
      const r = s.wallS / base.wallS;
      say({ label, value: `${r.toFixed(2)}×`, target: `≤ ${target.toFixed(1)}×`, ok: r <= target }, out);
    };
    ratio(tarX, 1.0, `wall strata / ${tarName}`);
    if (img.layout) ratio(umoci, 0.5, 'wall strata / umoci unpack');
    if (s.peakRssMb === undefined) log(`${'peak RSS strata'.padEnd(28)} n/a (no GNU time)`);
    else say({ label: 'peak RSS strata', value: `${s.peakRssMb.toFixed(0)} MB`, target: `≤ ${RSS_TARGET_MB} MB`, ok: s.peakRssMb <= RSS_TARGET_MB }, out);
    const c = check.check;
    if (c) {
      say({ label: 'output paths vs expected', value: String(c.actual), target: `= ${c.expected}`, ok: c.ok }, out);
      if (c.duplicates) log(`  ${c.duplicates} paths appear more than once in the output`);
      if (c.whiteoutsLeft) log(`  ${c.whiteoutsLeft} .wh. entries left in the output`);
      if (c.missing.length) log(`  missing (${c.missing.length}): ${c.missing.slice(0, 8).join(', ')}`);
      if (c.extra.length) log(`  unexpected (${c.extra.length}): ${c.extra.slice(0, 8).join(', ')}`);
    }
    const cpu = (base?: Measurement): string => (base?.cpuS && s.cpuS !== undefined ? `${(s.cpuS / base.cpuS).toFixed(2)}×` : 'n/a');
    log(`(info) CPU s strata / ${tarName} ${cpu(tarX)}${img.layout ? `, strata / umoci ${cpu(umoci)}` : ''}`);
    if (s.threads) log(`(info) strata flatten CPU s by thread (fastest run): ${s.threads}`);
  }
  if (tarX && umoci) {
    log(`(info) this machine: ${tarName} / umoci = ${(tarX.wallS / umoci.wallS).toFixed(2)}× ` +
      '(the issue’s 290 MB image: 2.6 s / 6.3 s = 0.41×)');
  }
}

interface ImageRun { img: BenchImage; rows: Row[]; verdicts: Verdict[]; loadBefore: number; loadAfter: number }

/** Every image's flatten figures and targets side by side, with the load each ran under. */
function summary(runs: ImageRun[], repeat: number): void {
  log(`\n== summary: strata flatten on every image (${repeat > 1 ? `fastest of ${repeat}` : 'one run each'}) ==`);
  const head = ['image', 'MB', 'entries', 'flatten s', 'tar -x s', '÷ tar', 'umoci s', '÷ umoci', 'RSS MB', 'paths', 'load'];
  const cells: string[][] = [];
  for (const { img, rows, verdicts, loadBefore, loadAfter } of runs) {
    const m = (p: string): Measurement | undefined => rows.find((r) => r.name.startsWith(p) && !r.error)?.m;
    const v = (p: string): string => {
      const x = verdicts.find((y) => y.label.startsWith(p));
      return x ? `${x.value} ${verdict(x.ok)}` : 'n/a';
    };
    cells.push([img.key, fmt(img.totalUncompressed / MB, 0), String(img.entries), fmt(m('strata flatten')?.wallS), fmt(m('tar -x')?.wallS),
      v('wall strata / tar'), img.layout ? fmt(m('umoci unpack')?.wallS) : '—', img.layout ? v('wall strata / umoci') : '—',
      v('peak RSS'), v('output paths'), `${fmt(loadBefore, 1)}→${fmt(loadAfter, 1)}`]);
  }
  log(markdownTable(head, cells));
  const all = runs.flatMap((r) => r.verdicts);
  log(`targets: ${all.filter((x) => x.ok).length} PASS, ${all.filter((x) => !x.ok).length} FAIL` +
    (all.some((x) => !x.ok) ? ` — ${runs.flatMap((r) => r.verdicts.filter((x) => !x.ok).map((x) => `${r.img.key}: ${x.label} ${x.value}`)).join('; ')}` : ''));
  log('(targets: flatten ≤ 1.0× tar -x, ≤ 0.5× umoci unpack, peak RSS ≤ 300 MB on every image; load = 1-min load average before→after)');
}

// ---- main -------------------------------------------------------------------------------------

async function benchImage(img: BenchImage, opts: Options, tmp: string, tools: { useTime: boolean; umoci: boolean }): Promise<ImageRun> {
  log('');
  describeImage(img, (s) => log(s));
  const blobs = img.layers.map((l) => l.file);
  const ctx: Ctx = { img, tmp, blobs, useTime: tools.useTime, logFile: join(tmp, 'cmd.log'), timeFile: join(tmp, 'time.out') };
  // No cache dropping (root-only and machine-wide); every input is read once so all contenders start warm.
  const t = Date.now();
  run('sh', ['-c', 'cat "$@" > /dev/null', 'sh', ...new Set([img.archive, ...blobs])]);
  log(`warm:    cat of the archive and layer blobs into the page cache: ${((Date.now() - t) / 1000).toFixed(1)} s; ` +
    `outputs go to ${tmp}, removed + sync after each contender`);
  const loadBefore = loadNote('before');

  const lists = blobs.map((_, i) => join(tmp, `layer-${i + 1}.list`));
  let listed = false;
  let expected: Set<string> | undefined;
  const expectedOnce = (): Set<string> | undefined =>
    (expected ??= listed ? mergeListings(lists.map((f) => readFileSync(f, 'utf8').split('\n'))) : undefined);
  const strataRan = existsSync(CLI);
  if (!strataRan) log(`skipped: strata flatten — ${CLI} does not exist yet`);
  const check: StrataCheck = {};
  const squashChecks: [StrataCheck, StrataCheck] = [{}, {}];
  const analyzeTimes: AnalyzeTimes[] = [];
  const squash = opts.squash === 'all' || (opts.squash === 'synthetic' && img.key === 'synthetic');
  const contenders = [
    listing(ctx, lists, () => (listed = true)),
    tarExtract(ctx),
    ...(tools.umoci && img.layout ? [umociUnpack(ctx, img.layout)] : []),
    ...(strataRan ? [runtimeFloor(ctx), strataFlatten(ctx, opts.strataArgs, expectedOnce, check),
      ...(squash ? [strataSquash(ctx, false, expectedOnce, squashChecks[0]), strataSquash(ctx, true, expectedOnce, squashChecks[1])] : []),
      strataAnalyze(ctx, analyzeTimes)] : []),
  ];
  const rows = await runAll(contenders, opts.repeat);

  const loadAfter = loadNote('after');
  table(img, rows, opts.repeat);
  const verdicts: Verdict[] = [];
  targets(img, rows, strataRan, check, verdicts);
  squashTargets(rows, squashChecks, verdicts);
  analyzeTargets(analyzeTimes, verdicts);
  return { img, rows, verdicts, loadBefore, loadAfter };
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  describeMachine();
  const tools = checkTools();
  const images = await getImages(opts.images, { cache: join(REPO, '.bench'), repo: REPO, rebuild: opts.rebuild, log });

  const tmp = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  const cleanup = (): void => {
    if (opts.keep) log(`kept ${tmp}`);
    else removeTree(tmp);
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const runs: ImageRun[] = [];
    for (const img of images) {
      const dir = join(tmp, img.key);
      mkdirSync(dir);
      runs.push(await benchImage(img, opts, dir, tools));
    }
    summary(runs, opts.repeat);
    log(`bench took ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    return runs.some((r) => r.rows.some((x) => x.error)) ? 1 : 0;
  } finally {
    cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
