// The analysis of one image, in three phases stored as they finish: (1) space, hidden content and
// sensitive files by name, from the model alone; (2) packages from their databases and metadata
// files, plus the content of files named like secrets — a few small files, which the browser
// keeps while decoding so this does not wait for layers to be stored; (3) every small file's
// content (secrets) and executables (Go module info). It reads file contents through a
// ContentSource and never walks layer tars itself.
import { StrataError } from '../errors.ts';
import { FileType, type EncodedTree } from '../model.ts';
import { FileTree } from '../tree/file-tree.ts';
import { diveNumbers } from './dive.ts';
import { debCopyrightMatch, parseDebCopyright } from './packages/dpkg.ts';
import { goMayBeBinary, parseGoBinary } from './packages/golang.ts';
import { FILE_CATALOGERS } from './packages/index.ts';
import { COPYRIGHT_LIMIT, OS_RELEASE_LIMIT } from './capture.ts';
import { osReleaseMatch, parseOsRelease } from './packages/os-release.ts';
import type { FileCataloger } from './packages/types.ts';
import { CONTENT_SCAN_LIMIT, capturesForName, scanContent, sensitiveByName, type ContentHit } from './sensitive.ts';
import { PackageLedger } from './ledger.ts';
import { analyzeSpace, type SpaceResult } from './space.ts';
import type { AnalysisResult, AnalysisWarning, Distro, SensitiveFinding } from './types.ts';
import { fileVersions } from './versions.ts';

/** Where file contents come from: the CLI's spooled layers, the browser's stored ones. */
export interface ContentSource {
  /** bytes [offset, offset + length) of the uncompressed stream of 0-based `layer` */
  read(layer: number, offset: number, length: number): Promise<Uint8Array>;
}

/** A small file the content phase scans for secrets. */
export interface ScanItem { layer: number; offset: number; size: number; path: string }

export interface AnalyzeOptions {
  signal?: AbortSignal;
  /**
   * Scans many files for secrets (`scanContent` on each), e.g. on several threads; resolves with
   * each item's hits, in the items' order. Without it the files are read and scanned here. It is
   * called first, for every small file, so that it runs while this thread works out the space
   * and packages phases (the hits of files those phases scanned themselves are not used).
   */
  scanSecrets?: (items: ScanItem[]) => Promise<ContentHit[][]>;
  /** what runs now and how far it is (phase text for people, done/total in its own unit) */
  onProgress?: (phase: string, done: number, total: number) => void;
  /** the result so far, after each phase (to store it as it goes) */
  onPhase?: (result: AnalysisResult) => void | Promise<void>;
  /** stop after the packages phase (no content scan) */
  skipContent?: boolean;
  /**
   * Awaited before the analysis starts, before each phase and, at most every PAUSE_EVERY_MS of
   * work, between the files of the packages phase: a background analysis waits there while work
   * the user waits for runs (the browser holds it during an export or while writing an image).
   */
  pause?: () => Promise<void>;
}

/** the packages phase calls `pause` at most this often (each call may cost a task boundary) */
const PAUSE_EVERY_MS = 10;

export async function analyzeImage(tree: EncodedTree, source: ContentSource, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  await pauseOrStop(opts);
  return new Analysis(tree, source, opts).run();
}

/** `opts.pause` if there is one, then ABORTED if the analysis was cancelled meanwhile */
async function pauseOrStop(opts: AnalyzeOptions): Promise<void> {
  if (!opts.pause) return;
  await opts.pause();
  if (opts.signal?.aborted) throw new StrataError('ABORTED', 'The analysis was cancelled.');
}

/** files the content phase reads: small ones by layer, in offset order, and executables */
interface ContentFiles { small: number[][]; executables: number[]; total: number }
/** the content scan started first, elsewhere (AnalyzeOptions.scanSecrets): its files and the hits to come */
interface Scan { files: ContentFiles; order: number[]; hits: Promise<ContentHit[][]> }

class Analysis {
  private readonly ft: FileTree;
  private readonly paths: string[];
  private readonly N: number;
  private space!: SpaceResult;
  /** per inode: 0-based layer where it stopped being visible (N when visible) */
  private readonly until: Int32Array;
  private readonly warnings: AnalysisWarning[] = [];
  /** sensitive findings by inode: content hits replace the name hit */
  private readonly byName = new Map<number, SensitiveFinding>();
  /** inodes whose name is a finding only if their content confirms it */
  private readonly named = new Set<number>();
  private readonly byContent = new Map<number, SensitiveFinding[]>();
  private readonly scanned = new Set<number>();
  private readonly ledger = new PackageLedger();
  private distro: Distro | null = null;
  private result!: AnalysisResult;

  constructor(private readonly t: EncodedTree, private readonly source: ContentSource, private readonly opts: AnalyzeOptions) {
    this.ft = new FileTree(t);
    this.N = t.layerCount;
    this.paths = nodePaths(this.ft);
    this.until = new Int32Array(t.iType.length).fill(this.N);
  }

  async run(): Promise<AnalysisResult> {
    const scan = this.opts.scanSecrets && !this.opts.skipContent ? this.scanElsewhere(this.opts.scanSecrets) : null;
    try {
      return await this.phases(scan);
    } finally {
      await scan?.hits.catch(() => {}); // nothing is left running behind a failure
    }
  }

  /** every small file, in layer and offset order, handed to `scanSecrets` */
  private scanElsewhere(scanSecrets: NonNullable<AnalyzeOptions['scanSecrets']>): Scan {
    const t = this.t;
    const files = this.contentFiles();
    const order = files.small.flat();
    const hits = scanSecrets(order.map((i) => ({ layer: t.iLayer[i], offset: t.iOffset[i], size: t.iSize[i], path: this.paths[t.iNode[i]] })));
    hits.catch(() => {}); // awaited in content(), or when a phase before it failed
    return { files, order, hits };
  }

  private contentFiles(): ContentFiles {
    const t = this.t;
    const small: number[][] = Array.from({ length: this.N }, () => []);
    const executables: number[] = [];
    let total = 0;
    for (let i = 0; i < t.iType.length; i++) {
      if (t.iType[i] !== FileType.File || t.iLayer[i] < 0 || t.iSize[i] === 0) continue;
      if (t.iSize[i] <= CONTENT_SCAN_LIMIT && !this.scanned.has(i)) { small[t.iLayer[i]].push(i); total += t.iSize[i]; }
      if (goMayBeBinary(t.iSize[i], t.iMode[i])) executables.push(i);
    }
    for (const list of small) list.sort((a, b) => t.iOffset[a] - t.iOffset[b]);
    return { small, executables, total };
  }

  private async phases(scan: Scan | null): Promise<AnalysisResult> {
    await this.pause(true);
    this.progress('space and hidden files', 0, 1);
    this.space = analyzeSpace(this.t, this.ft);
    for (const h of this.space.hidden) this.until[h.inode] = h.until;
    this.result = {
      format: 1, dive: diveNumbers(this.t, { index: this.ft.index }), waste: this.space.waste, sensitive: [], packages: [], warnings: this.warnings,
      distro: null, phases: { space: true, packages: false, content: false },
    };
    this.namedSecrets();
    await this.publish();
    await this.pause(true);
    await this.packages();
    this.result.phases.packages = true;
    await this.publish();
    if (!this.opts.skipContent) {
      await this.pause(true);
      await this.content(scan);
      this.result.phases.content = true;
      await this.publish();
    }
    return this.result;
  }

  private lastPause = 0;

  /** `opts.pause`, at most every PAUSE_EVERY_MS unless `now` */
  private async pause(now = false): Promise<void> {
    if (!this.opts.pause) return;
    const t = Date.now();
    if (!now && t - this.lastPause < PAUSE_EVERY_MS) return;
    await pauseOrStop(this.opts);
    this.lastPause = Date.now();
  }

  private progress(phase: string, done: number, total: number): void {
    if (this.opts.signal?.aborted) throw new StrataError('ABORTED', 'The analysis was cancelled.');
    this.opts.onProgress?.(phase, done, total);
  }

  private async publish(): Promise<void> {
    this.result.sensitive = this.findings();
    this.result.packages = this.ledger.records(this.N, { distro: this.distro });
    this.result.distro = this.distro;
    await this.opts.onPhase?.(structuredClone(this.result));
  }

  // ---- phase 1: sensitive files by name ----

  private namedSecrets(): void {
    const t = this.t;
    for (let i = 0; i < t.iType.length; i++) {
      if (t.iType[i] !== FileType.File || t.iLayer[i] < 0) continue;
      const hit = sensitiveByName(this.paths[t.iNode[i]]);
      if (!hit) continue;
      // a name that only counts with its content (*.pem: certificates are not secrets) waits for it
      if (hit.needsContent) this.named.add(i);
      else this.byName.set(i, this.finding(i, hit.rule, hit.reason, hit.sample));
    }
  }

  private finding(inode: number, rule: string, reason: string, sample: boolean): SensitiveFinding {
    const u = this.until[inode];
    return {
      path: this.paths[this.t.iNode[inode]], layer: this.t.iLayer[inode] + 1, visible: u >= this.N,
      hiddenIn: u >= this.N ? null : u + 1, rule, reason, size: this.t.iSize[inode], ...(sample ? { sample } : {}),
    };
  }

  private findings(): SensitiveFinding[] {
    const all: SensitiveFinding[] = [];
    for (const [i, f] of this.byName) if (!this.byContent.get(i)?.length) all.push(f);
    for (const fs of this.byContent.values()) all.push(...fs);
    // real findings first (package test files and examples last), visible before hidden
    return all.sort((a, b) => Number(!!a.sample) - Number(!!b.sample) || Number(b.visible) - Number(a.visible) || cmp(a.path, b.path) || a.layer - b.layer || cmp(a.rule, b.rule));
  }

  private scanSecrets(inode: number, bytes: Uint8Array): void {
    this.applyHits(inode, scanContent(bytes, this.paths[this.t.iNode[inode]]));
  }

  private applyHits(inode: number, found: ContentHit[]): void {
    this.scanned.add(inode);
    let hits = found;
    // `GITHUB_TOKEN=ghp_…` is one secret: the token rule says more than the generic assignment rule
    const specific = new Set(hits.filter((h) => h.rule !== 'config-secret').map((h) => h.line));
    hits = hits.filter((h) => h.rule !== 'config-secret' || !specific.has(h.line) || h.count > 1);
    if (hits.length) this.byContent.set(inode, hits.map((h) => this.finding(inode, h.rule, h.reason, h.sample)));
  }

  // ---- phase 2: package databases and metadata files ----

  private async packages(): Promise<void> {
    const t = this.t;
    const jobs: { node: number; cataloger: FileCataloger | null; kind: 'catalog' | 'copyright' | 'os-release' }[] = [];
    for (let n = 1; n < t.nodeCount; n++) {
      const p = this.paths[n];
      const c = FILE_CATALOGERS.find((x) => x.match(p));
      if (c) jobs.push({ node: n, cataloger: c, kind: 'catalog' });
      else if (debCopyrightMatch(p) !== null) jobs.push({ node: n, cataloger: null, kind: 'copyright' });
      else if (osReleaseMatch(p)) jobs.push({ node: n, cataloger: null, kind: 'os-release' });
    }
    const named = [...this.byName.keys(), ...this.named].filter((i) => t.iSize[i] <= CONTENT_SCAN_LIMIT);
    const shadow = this.shadowInodes();
    const total = jobs.length + named.length + shadow.length;
    let done = 0;
    // os-release first: every deb/apk/rpm purl carries the distro
    jobs.sort((a, b) => Number(b.kind === 'os-release') - Number(a.kind === 'os-release'));
    const licences = new Map<string, { layer: number; licence: string }>();
    for (const job of jobs) {
      await this.pause();
      this.progress('reading package databases', done++, total);
      const path = this.paths[job.node];
      for (const v of fileVersions(t, job.node)) {
        const size = t.iSize[v.inode];
        const limit = job.cataloger?.maxBytes ?? (job.kind === 'copyright' ? COPYRIGHT_LIMIT : OS_RELEASE_LIMIT);
        if (size > limit) {
          if (job.cataloger) this.warn(path, v.from, `${job.cataloger.label} of ${size} bytes is larger than the ${limit}-byte limit; its packages are not listed`);
          continue;
        }
        const bytes = await this.read(v.inode);
        if (job.kind === 'os-release') {
          // the merged filesystem's copy wins; else the latest one any layer had
          const d = parseOsRelease(bytes);
          if (d && (v.until >= this.N || !this.distro)) this.distro = d;
        } else if (job.kind === 'copyright') {
          const licence = parseDebCopyright(bytes);
          const name = debCopyrightMatch(path)!;
          if (licence && (licences.get(name)?.layer ?? -1) <= v.from) licences.set(name, { layer: v.from, licence });
        } else {
          try {
            for (const pkg of job.cataloger!.parse(bytes, path)) this.ledger.add(job.cataloger!.ecosystem, pkg, path, v.from, v.until);
          } catch (e) {
            this.warn(path, v.from, `${job.cataloger!.label}: ${e instanceof Error ? e.message : String(e)}; its packages are not listed`);
          }
        }
      }
    }
    this.ledger.setDebLicences(new Map([...licences].map(([k, v]) => [k, v.licence])));
    this.unreadRpmDatabases();
    for (const i of [...named, ...shadow]) {
      await this.pause();
      this.progress('reading files named like secrets', done++, total);
      if (!this.scanned.has(i)) this.scanSecrets(i, await this.read(i));
    }
  }

  /** rpm's older databases (BerkeleyDB on RHEL ≤ 8, SUSE's ndb) are not read: say so, never list nothing silently */
  private unreadRpmDatabases(): void {
    for (const p of ['/var/lib/rpm/Packages', '/var/lib/rpm/Packages.db', '/usr/lib/sysimage/rpm/Packages', '/usr/lib/sysimage/rpm/Packages.db']) {
      const n = this.ft.lookup(p);
      const v = n < 0 ? undefined : fileVersions(this.t, n).pop();
      if (v) this.warn(p, v.from, `rpm's ${p.endsWith('.db') ? 'ndb' : 'BerkeleyDB'} database is not read (only rpmdb.sqlite is); its packages are not listed`);
    }
  }

  /** /etc/shadow and /etc/gshadow have no name rule of their own: their hashes are the finding */
  private shadowInodes(): number[] {
    const out: number[] = [];
    for (const p of ['/etc/shadow', '/etc/gshadow']) {
      const n = this.ft.lookup(p);
      if (n < 0) continue;
      for (const v of fileVersions(this.t, n)) if (this.t.iSize[v.inode] <= CONTENT_SCAN_LIMIT && !this.byName.has(v.inode)) out.push(v.inode);
    }
    return out;
  }

  private read(inode: number): Promise<Uint8Array> {
    const t = this.t;
    return this.source.read(t.iLayer[inode], t.iOffset[inode], t.iSize[inode]);
  }

  private warn(path: string, layer: number, message: string): void {
    this.warnings.push({ path, layer: layer + 1, message });
  }

  // ---- phase 3: every small file's content, and Go binaries ----

  private async content(scan: Scan | null): Promise<void> {
    const t = this.t;
    // with a scan elsewhere, its list (made before the packages phase) serves: its small files are
    // scanned there, and the progress total counts the few the packages phase read too
    const { small, executables, total } = scan?.files ?? this.contentFiles();
    let done = 0;
    if (scan) {
      this.progress('scanning file contents for secrets', 0, total);
      const hits = await scan.hits;
      // files the packages phase read and scanned already keep that result
      scan.order.forEach((i, j) => { if (!this.scanned.has(i)) this.applyHits(i, hits[j] ?? []); });
    } else {
      for (let k = 0; k < small.length; k++) {
        for (const span of spans(t, small[k])) {
          this.progress('scanning file contents for secrets', done, total);
          const bytes = await this.source.read(k, span.start, span.end - span.start);
          for (const i of span.inodes) {
            const at = t.iOffset[i] - span.start;
            this.scanSecrets(i, bytes.subarray(at, at + t.iSize[i]));
            done += t.iSize[i];
          }
        }
      }
    }
    for (let j = 0; j < executables.length; j++) {
      this.progress('reading Go module info from executables', j, executables.length);
      const i = executables[j];
      const path = this.paths[t.iNode[i]];
      const base = t.iOffset[i];
      try {
        const pkgs = await parseGoBinary((off, len) => this.source.read(t.iLayer[i], base + off, Math.max(0, Math.min(len, t.iSize[i] - off))), t.iSize[i]);
        for (const pkg of pkgs ?? []) this.ledger.add('golang', pkg, path, t.iLayer[i], this.until[i]);
      } catch (e) {
        if (e instanceof StrataError) throw e; // reading failed: not the binary's fault
        this.warn(path, t.iLayer[i], `Go build info: ${e instanceof Error ? e.message : String(e)}; its modules are not listed`);
      }
    }
  }
}

/** Reads of neighbouring small files merged into spans of at most 8 MiB (gaps up to 256 KiB). */
function spans(t: EncodedTree, sorted: number[]): { start: number; end: number; inodes: number[] }[] {
  const out: { start: number; end: number; inodes: number[] }[] = [];
  for (const i of sorted) {
    const start = t.iOffset[i], end = start + t.iSize[i];
    const cur = out[out.length - 1];
    if (cur && start - cur.end <= 256 << 10 && end - cur.start <= 8 << 20) {
      cur.end = Math.max(cur.end, end);
      cur.inodes.push(i);
    } else out.push({ start, end, inodes: [i] });
  }
  return out;
}

/** every node's "/"-rooted path, built along one walk (no per-node parent chase) */
function nodePaths(ft: FileTree): string[] {
  const out = new Array<string>(ft.nodeCount);
  out[0] = '/';
  const stack = [0];
  while (stack.length) {
    const n = stack.pop()!;
    const base = n === 0 ? '' : out[n];
    for (const c of ft.children(n)) {
      out[c] = base + '/' + ft.name(c);
      stack.push(c);
    }
  }
  return out;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
