// strata CLI: the same engine as the browser, over files. Exit 0 ok, 1 bad input (one line on
// stderr, no stack), 2 usage, 128 + signal number when interrupted (cli/interrupt.ts).
import { closeSync, existsSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { StrataError, toErrorInfo } from '../core/errors.ts';
import { openArchive, type Archive, type ImageSelector, type ResolvedImage } from '../core/archive/open.ts';
import { importImage, type ImportResult } from '../core/import.ts';
import { tarRecords, type TarRecord } from '../core/export/tar-export.ts';
import { DIFF_NAMES, FileType, type DiffType } from '../core/model.ts';
import { TreeIndex } from '../core/tree/tree-index.ts';
import { assertVerified, judgeLayer } from '../core/verify.ts';
import { collectGarbage, NodeEnv } from './node-env.ts';
import { DecodePool } from './pool.ts';
import { copyRange, gunzipWrapped } from './file-source.ts';
import { fileBlob } from './file-blob.ts';
import { analysisJson, analysisText, runAnalysis, sbomText } from './analyze.ts';
import type { SbomFormat, SbomScope } from '../core/analysis/types.ts';
import { writeImageFile } from './write-image.ts';
import { cleanUpOnSignals, onInterrupt, outputTemp } from './interrupt.ts';
import { createdTime, normalizeTag, type ImageFormat } from '../core/export/image-write.ts';
import { diff } from './diff.ts';
import { isRegistryRef, openRegistryArchive, pulledLayerFile, refName, registryCredentials } from './registry.ts';
import type { Credentials } from '../core/registry/auth.ts';

const USAGE = `usage: strata <command> IMAGE [options]
  flatten IMAGE -o OUT.tar [--image REF|N] [--platform os/arch[/variant]] [--layer N] [--no-verify]
  ls IMAGE [--layer N] [--changes] [--image REF|N] [--platform P]
  inspect IMAGE [--image REF|N] [--platform P]
  analyze IMAGE [--image REF|N] [--platform P] [--json]
  sbom IMAGE [--format cyclonedx|spdx] [--scope squashed|all-layers] [-o FILE] [--image REF|N] [--platform P]
  squash IMAGE -o OUT.tar [--format docker|oci] [--keep-layers K] [--tag NAME:TAG] [--no-compress] [--created TIME]
  cut IMAGE --layer K -o OUT.tar [--format docker|oci] [--tag NAME:TAG] [--created TIME]
  diff A B [--image-a REF|N] [--image-b REF|N] [--layer-a N] [--layer-b N] [--platform P] [--json]
       (exit 0 whether or not they differ; mtime alone is not a change)
IMAGE: docker save / podman save / skopeo docker-archive or oci-archive output, kaniko tarball,
       optionally gzip/zstd-wrapped, or a plain root-filesystem tar; or docker://REF, an image in a
       registry ([host[:port]/]repo[:tag|@sha256:…]; --creds USER:PASS or STRATA_REGISTRY_AUTH for
       a private one). Layers are numbered from 1.`;

class UsageError extends Error {}

interface Args {
  cmd: string; image: string; out?: string; sel: ImageSelector; layer?: number; changes: boolean; verify: boolean; jobs?: number;
  json: boolean; format: SbomFormat; scope: SbomScope;
  /** squash / cut */
  imageFormat: ImageFormat; keep?: number; tag?: string; compress: boolean; created?: string;
  /** diff: B, and B's image and layer (A's are `image`, `sel`, `layer`) */
  imageB?: string; selB: ImageSelector; layerB?: number;
  /** --creds USER:PASS for docker:// images */
  creds?: string;
}

function parseArgs(argv: string[]): Args {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help') throw new UsageError('');
  if (!['flatten', 'ls', 'inspect', 'analyze', 'sbom', 'squash', 'cut', 'diff'].includes(cmd)) throw new UsageError(`unknown command "${cmd}"`);
  const a: Args = { cmd, image: '', sel: {}, changes: false, verify: true, json: false, format: 'cyclonedx', scope: 'squashed', imageFormat: 'docker', compress: true, selB: {} };
  const writes = cmd === 'squash' || cmd === 'cut';
  const isDiff = cmd === 'diff';
  const layerNumber = (arg: string, v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${arg} takes a layer number from 1, not "${v}"`);
    return Number(v) - 1;
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const val = () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (isDiff !== /^--(image|layer)-[ab]$/.test(arg) && /^--(image|layer)(-[ab])?$/.test(arg)) {
      throw new UsageError(isDiff ? `diff takes ${arg}-a and ${arg}-b, not ${arg}` : `${arg} is an option of diff`);
    }
    switch (arg) {
      case '--image-a': a.sel.image = val(); break;
      case '--image-b': a.selB.image = val(); break;
      case '--layer-a': a.layer = layerNumber(arg, val()); break;
      case '--layer-b': a.layerB = layerNumber(arg, val()); break;
      case '-o': case '--output': a.out = val(); break;
      case '--image': a.sel.image = val(); break;
      case '--platform': a.sel.platform = val(); if (isDiff) a.selB.platform = a.sel.platform; break;
      case '--layer': {
        const v = val();
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--layer takes a layer number from 1, not "${v}"`);
        a.layer = Number(v) - 1; break;
      }
      case '--jobs': a.jobs = Number(val()); break;
      case '--creds': a.creds = val(); break;
      case '--changes': a.changes = true; break;
      case '--no-verify': a.verify = false; break;
      case '--json': a.json = true; break;
      case '--format': {
        const v = val();
        if (writes) {
          if (v !== 'docker' && v !== 'oci') throw new UsageError(`--format takes docker or oci, not "${v}"`);
          a.imageFormat = v; break;
        }
        if (v !== 'cyclonedx' && v !== 'spdx') throw new UsageError(`--format takes cyclonedx or spdx, not "${v}"`);
        a.format = v; break;
      }
      case '--scope': {
        const v = val();
        if (v !== 'squashed' && v !== 'all-layers') throw new UsageError(`--scope takes squashed or all-layers, not "${v}"`);
        a.scope = v; break;
      }
      case '--keep-layers': {
        const v = val();
        if (cmd !== 'squash') throw new UsageError('--keep-layers is an option of squash');
        if (!/^\d+$/.test(v)) throw new UsageError(`--keep-layers takes a number of layers from 0, not "${v}"`);
        a.keep = Number(v); break;
      }
      case '--tag': if (!writes) throw new UsageError('--tag is an option of squash and cut'); a.tag = val(); break;
      case '--created': if (!writes) throw new UsageError('--created is an option of squash and cut'); a.created = val(); break;
      case '--no-compress': if (cmd !== 'squash') throw new UsageError('--no-compress is an option of squash'); a.compress = false; break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        if (isDiff && a.image && !a.imageB) { a.imageB = arg; break; }
        if (a.image) throw new UsageError(`unexpected argument "${arg}"`);
        a.image = arg;
    }
  }
  if (!a.image) throw new UsageError(isDiff ? 'diff needs two images: A B' : 'missing IMAGE');
  if (isDiff && !a.imageB) throw new UsageError('diff needs two images: A B');
  if ((cmd === 'flatten' || writes) && !a.out) throw new UsageError(`${cmd} needs -o OUT.tar`);
  if (cmd === 'cut' && a.layer === undefined) throw new UsageError('cut needs --layer K');
  if (cmd === 'squash' && a.layer !== undefined) throw new UsageError('squash takes --keep-layers K, not --layer');
  if (writes && !a.verify) throw new UsageError(`${cmd} always verifies the digests it writes: drop --no-verify`);
  if (a.creds !== undefined && ![a.image, a.imageB].some((p) => p && isRegistryRef(p))) throw new UsageError('--creds is for images in a registry (docker://REF)');
  return a;
}

/** The file the decode workers read for an archive: the input itself, or its decompressed copy. */
const archiveFiles = new WeakMap<Archive, string>();

/** Registry credentials of this run (--creds or STRATA_REGISTRY_AUTH), in memory only. */
let credentials: Credentials | undefined;

async function open(path: string, env: NodeEnv): Promise<Archive> {
  if (isRegistryRef(path)) {
    const archive = await openRegistryArchive(path, env, credentials);
    archiveFiles.set(archive, ''); // each layer is a file of its own (pulledLayerFile)
    return archive;
  }
  if (!existsSync(path)) throw new StrataError('IO', `${path}: no such file`);
  // a gzip-wrapped archive (`docker save | gzip`) is inflated by zlib into a temp file, read back
  // once: the core's stream path ran at a sixth of zlib's speed on a 1 GB wrapped rootfs
  const plain = await gunzipWrapped(path, env.spoolPath());
  if (plain) {
    try {
      const archive = await openArchive(fileBlob(plain), basename(path), env);
      archive.info.outerCompression = 'gzip';
      archiveFiles.set(archive, plain);
      return archive;
    } catch (e) {
      // not what zlib alone can vouch for (e.g. zero padding after the gzip member, which the
      // core tolerates): let the core read the original, with its own messages
      if (!(e instanceof StrataError) || e.code !== 'NOT_AN_IMAGE') throw e;
    }
  }
  const archive = await openArchive(fileBlob(path), basename(path), env);
  if (archive.info.outerCompression === 'none') archiveFiles.set(archive, path);
  return archive;
}

/** Decode layers on a worker pool (files are re-opened by path in each worker). */
interface Loaded extends ImportResult {
  /** where each layer's uncompressed stream lives on disk: a spool file, or a range of the archive */
  files: { path: string; base: number }[];
}

async function load(path: string, archive: Archive, img: ResolvedImage, env: NodeEnv, verify: boolean, jobs?: number, content = true): Promise<Loaded> {
  // a wrapped archive was decompressed to a temp file: workers read that one (zstd: the core's spool, copied)
  const archivePath = archiveFiles.get(archive) ?? await spoolPath(archive, env);
  // one decode worker per core (four on two cores only added isolates and memory: 566 MB vs 492 MB peak RSS)
  const pool = new DecodePool(Math.max(1, Math.min(jobs ?? availableParallelism(), img.layers.length)));
  const digests: (string | undefined)[] = [];
  const files: { path: string; base: number }[] = [];
  let started = 0;
  try {
    const res = await importImage(img, env, {
      parallel: pool.size,
      hashDiffId: verify,
      decode: async (info) => {
        const src = img.layers[info.index];
        const file = pulledLayerFile(src) ?? archivePath;
        const run = pool.run({
          archive: file, start: src.range.start, end: src.range.end, info, tmpDir: env.dir,
          hashDiffId: verify, hashDigest: verify && !!info.digest && info.compression !== 'none', spool: content,
        });
        if (++started === img.layers.length) pool.retire();
        const r = await run;
        digests[info.index] = r.digest;
        files[info.index] = r.spool ? { path: r.spool, base: 0 } : { path: file, base: src.range.start };
        return { index: info.index, entries: [], columns: r.columns, size: r.size, diffId: r.diffId, content: r.spool ? fileBlob(r.spool) : src.blob };
      },
    });
    if (verify) {
      for (const info of res.meta.layers) {
        const computedDiff = res.computedDiffIds[info.index];
        const v = judgeLayer(info, { diffId: computedDiff, digest: info.compression === 'none' ? computedDiff : digests[info.index] });
        info.verify = v;
        assertVerified(info, v, res.meta.layers.length);
      }
    }
    return { ...res, files };
  } finally {
    await pool.close();
    collectGarbage();
  }
}

async function spoolPath(archive: Archive, env: NodeEnv): Promise<string> {
  // write the decompressed outer tar to a file the workers can open
  const s = env.spool();
  for await (const c of archive.blob.stream() as unknown as AsyncIterable<Uint8Array>) s.write(c);
  s.close();
  return s.path;
}

/** the output is written this many bytes between turns of the event loop (a Ctrl-C is handled there) */
const YIELD_EVERY = 64 << 20;
const immediate = () => new Promise<void>((r) => setImmediate(r));
/**
 * Lets the event loop poll, where a signal's handler runs. One setImmediate queued from an I/O
 * callback runs before the loop polls again; the second is queued from the check phase, so the
 * loop polls in between.
 */
const letSignalsIn = async (): Promise<void> => { await immediate(); await immediate(); };

/** Write tar records to fd through a 4 MiB buffer; content is copied from the layer files. */
async function writeRecords(records: Iterable<TarRecord>, fd: number, files: { path: string; base: number }[]): Promise<void> {
  const out = new Uint8Array(4 << 20);
  let fill = 0;
  let since = 0;
  const flush = () => { let o = 0; while (o < fill) o += writeSync(fd, out, o, fill - o); since += fill; fill = 0; };
  const put = (b: Uint8Array) => {
    if (b.length > out.length - fill) flush();
    if (b.length >= out.length) { let o = 0; while (o < b.length) o += writeSync(fd, b, o, b.length - o); since += b.length; return; }
    out.set(b, fill); fill += b.length;
  };
  const fds = new Map<number, number>();
  const buf = new Uint8Array(4 << 20);
  try {
    for (const r of records) {
      if (r instanceof Uint8Array) put(r);
      else {
        let src = fds.get(r.layer);
        if (src === undefined) { src = openSync(files[r.layer].path, 'r'); fds.set(r.layer, src); }
        copyRange(src, files[r.layer].base + r.offset, r.size, put, buf);
      }
      if (since >= YIELD_EVERY) { since = 0; await letSignalsIn(); }
    }
    flush();
    await letSignalsIn(); // a signal during the last bytes is handled before the output is renamed
  } finally {
    for (const f of fds.values()) closeSync(f);
  }
}

async function analyze(a: Args, env: NodeEnv): Promise<void> {
  const t0 = performance.now();
  const archive = await open(a.image, env);
  const img = await archive.resolve(a.sel);
  const res = await load(a.image, archive, img, env, a.verify, a.jobs);
  if (process.env.STRATA_TIMINGS === '1') process.stderr.write(`strata: timings: load ${(performance.now() - t0).toFixed(0)} ms\n`);
  const r = await runAnalysis(res.files, res.tree);
  if (a.cmd === 'sbom') {
    const epoch = process.env.SOURCE_DATE_EPOCH;
    const created = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
    const text = sbomText(res.meta, r, a.format, a.scope, created);
    if (a.out) atomicWrite(a.out, text);
    else process.stdout.write(text);
    return;
  }
  process.stdout.write(a.json ? JSON.stringify(analysisJson(res.meta, r), null, 2) + '\n' : analysisText(res.meta, r));
}

/** Writes a temp file next to `out` and renames it: a failed run leaves nothing behind. */
function atomicWrite(out: string, text: string): void {
  const { path: tmp, release } = outputTemp(out);
  try {
    const fd = openSync(tmp, 'w');
    try { writeSync(fd, text); } finally { closeSync(fd); }
    renameSync(tmp, out);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw new StrataError('IO', `writing ${out}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    release();
  }
}

async function flatten(a: Args, env: NodeEnv): Promise<void> {
  const archive = await open(a.image, env);
  const img = await archive.resolve(a.sel);
  const res = await load(a.image, archive, img, env, a.verify, a.jobs);
  const layer = checkLayer(a.layer, res.meta.layers.length);
  const out = a.out!;
  const { path: tmp, release } = outputTemp(out);
  const fd = openSync(tmp, 'w');
  try {
    await writeRecords(tarRecords(res.tree, { layer }), fd, res.files);
    closeSync(fd);
    renameSync(tmp, out);
  } catch (e) {
    try { closeSync(fd); } catch { /* closed */ }
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  } finally {
    release();
  }
}

/** squash / cut: the image written by write-image.ts, every digest verified first */
async function writeImage(a: Args, env: NodeEnv): Promise<void> {
  let created: string;
  try {
    created = createdTime(a.created, process.env.SOURCE_DATE_EPOCH, new Date());
    if (a.tag !== undefined) normalizeTag(a.tag);
  } catch (e) {
    throw new UsageError(toErrorInfo(e).message);
  }
  const archive = await open(a.image, env);
  const img = await archive.resolve(a.sel);
  const res = await load(a.image, archive, img, env, true, a.jobs);
  const n = res.meta.layers.length;
  const keep = a.cmd === 'cut' ? checkLayer(a.layer, n) + 1 : a.keep ?? 0;
  if (a.cmd === 'squash' && keep >= n) throw new UsageError(`--keep-layers ${keep}: the image has ${n} layer${n === 1 ? '' : 's'}; keep 0 to ${n - 1} below the squashed one`);
  await writeImageFile(res, img, { op: a.cmd as 'squash' | 'cut', keep, format: a.imageFormat, tag: a.tag, compress: a.compress, created }, a.out!);
}

function checkLayer(layer: number | undefined, n: number): number {
  if (layer === undefined) return n - 1;
  if (layer >= n) throw new UsageError(`--layer ${layer + 1}: the image has ${n} layer${n === 1 ? '' : 's'}`);
  return layer;
}

const TYPE_CHAR = ['-', 'd', 'l', 'c', 'b', 'p', 's'];

export function modeString(type: FileType, mode: number): string {
  const r = (b: number, c: string) => (mode & b ? c : '-');
  const x = (b: number, special: number, s: string) => (mode & special ? (mode & b ? s : s.toUpperCase()) : mode & b ? 'x' : '-');
  return TYPE_CHAR[type] + r(0o400, 'r') + r(0o200, 'w') + x(0o100, 0o4000, 's') + r(0o40, 'r') + r(0o20, 'w') + x(0o10, 0o2000, 's') + r(0o4, 'r') + r(0o2, 'w') + x(0o1, 0o1000, 't');
}

async function ls(a: Args, env: NodeEnv): Promise<void> {
  const archive = await open(a.image, env);
  const img = await archive.resolve(a.sel);
  const res = await load(a.image, archive, img, env, false, a.jobs, false);
  const t = res.tree;
  const ix = new TreeIndex(t);
  const n = res.meta.layers.length;
  const lines: string[] = [];
  if (a.changes) {
    const layers = a.layer === undefined ? [...Array(n).keys()] : [checkLayer(a.layer, n)];
    // versions made at each layer, in path order
    const order = walkOrder(ix);
    for (const k of layers) {
      const info = res.meta.layers[k];
      lines.push(`# layer ${k + 1} ${info.digest ?? info.member}${info.createdBy ? `  ${info.createdBy.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`);
      for (const node of order) {
        if (node === 0) continue;
        for (let v = t.verStart[node]; v < t.verStart[node + 1]; v++) {
          if (t.vLayer[v] === k) lines.push(`${DIFF_NAMES[t.vDiff[v] as DiffType]}: ${ix.path(node)}`);
        }
      }
    }
  } else {
    const k = checkLayer(a.layer, n);
    for (const node of walkOrder(ix)) {
      if (node === 0) continue;
      const ino = ix.inodeAt(node, k);
      if (ino < 0) continue;
      const type = t.iType[ino] as FileType;
      const link = type === FileType.Symlink ? ` -> ${ix.linkTarget(ino)}` : '';
      const size = type === FileType.Char || type === FileType.Block ? `${t.iDevMajor[ino]},${t.iDevMinor[ino]}` : String(t.iSize[ino]);
      lines.push(`${modeString(type, t.iMode[ino])} ${t.iUid[ino]}/${t.iGid[ino]} ${size.padStart(10)} ${ix.path(node)}${link}`);
    }
  }
  process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
}

function walkOrder(ix: TreeIndex): number[] {
  const out: number[] = [];
  const stack = [0];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    const kids = ix.children(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
  return out;
}

async function inspect(a: Args, env: NodeEnv): Promise<void> {
  const archive = await open(a.image, env);
  const img = await archive.resolve(a.sel);
  const res = await load(a.image, archive, img, env, true, a.jobs, false);
  const m = res.meta;
  const report = {
    source: m.source,
    format: archive.info.format,
    outerCompression: archive.info.outerCompression,
    images: archive.info.images,
    skipped: archive.info.skipped,
    chosen: { index: m.image.index, name: m.image.name, platform: m.image.platform ?? null, digest: m.image.digest ?? null },
    config: m.config,
    layers: m.layers.map((l) => ({
      index: l.index + 1,
      digest: l.digest ?? null,
      diffId: l.diffId ?? null,
      mediaType: l.mediaType,
      compression: l.compression,
      compressedSize: l.compressedSize,
      size: l.size ?? null,
      createdBy: l.createdBy ?? null,
      entries: l.entries, added: l.added, modified: l.modified, deleted: l.deleted,
      verify: l.verify ?? null,
    })),
    history: m.history,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    process.stderr.write((e instanceof Error && e.message ? `strata: ${e.message}\n` : '') + USAGE + '\n');
    return 2;
  }
  try {
    credentials = registryCredentials(a.creds, process.env.STRATA_REGISTRY_AUTH);
  } catch (e) {
    process.stderr.write(`strata: ${toErrorInfo(e).message}\n`);
    return 2;
  }
  cleanUpOnSignals();
  const env = new NodeEnv();
  const off = onInterrupt(() => env.dispose());
  try {
    if (a.cmd === 'flatten') await flatten(a, env);
    else if (a.cmd === 'ls') await ls(a, env);
    else if (a.cmd === 'analyze' || a.cmd === 'sbom') await analyze(a, env);
    else if (a.cmd === 'squash' || a.cmd === 'cut') await writeImage(a, env);
    else if (a.cmd === 'diff') {
      await diff({ a: a.image, b: a.imageB!, selA: a.sel, selB: a.selB, layerA: a.layer, layerB: a.layerB, json: a.json, verify: a.verify, jobs: a.jobs },
        env, { open, load, usage: (m) => new UsageError(m) });
    }
    else await inspect(a, env);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`strata: ${e.message}\n`); return 2; }
    const info = toErrorInfo(e);
    const msg = info.message.replace(/\s*\n\s*/g, ' ');
    const display = (p: string) => (isRegistryRef(p) ? refName(p) : basename(p));
    const named = [a.image, a.imageB].some((p) => p !== undefined && msg.startsWith(display(p)));
    process.stderr.write(`strata: ${named ? '' : display(a.image) + ': '}${msg}\n`);
    return 1;
  } finally {
    off();
    env.dispose();
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
