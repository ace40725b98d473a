// Deciding the `pending` files of a comparison: equal sizes, content from different sources. Each
// distinct source is hashed once (sha256) through a reader the platform supplies — the CLI's
// spool files, the browser's stored layers. Nothing else is read. Neighbouring small files of a
// layer are read together (one read per run of up to 8 MiB): per-read costs, not hashing, would
// otherwise dominate thousands of small files in the browser.
import type { Hasher } from '../env.ts';
import { StrataError } from '../errors.ts';
import { countFiles, type JoinSide, type SideKey } from './files.ts';
import { CHANGE_WHATS, type Comparison, type FileDiff, type HashWork } from './types.ts';

export interface CompareContent {
  /** bytes [offset, offset + length) of the uncompressed stream of `side`'s 0-based `layer` */
  read(side: SideKey, layer: number, offset: number, length: number): Promise<Uint8Array>;
  sha256(): Hasher;
}

export interface ContentOptions {
  signal?: AbortSignal;
  /** after each read (and once at the start) */
  onProgress?: (work: HashWork) => void;
}

/** files bigger than this are streamed on their own, in reads of this size */
const CHUNK = 4 << 20;
/** a run of neighbouring files read at once: at most this long, with gaps of at most GAP */
const RUN = 8 << 20;
const GAP = 64 << 10;
/** reads in flight: the browser's reads of stored Blobs are latency-bound */
const PARALLEL = 4;

interface Source { side: SideKey; layer: number; offset: number; size: number; digest?: string }

const key = (f: FileDiff, side: SideKey, s: JoinSide) => s.sourceKey(f[side]!.content!.layer, f[side]!.content!.offset);

/** The sources the pending files need hashed, each once. */
export function hashWork(files: FileDiff[], A: JoinSide, B: JoinSide): { work: HashWork; sources: Map<number, Source> } {
  const sources = new Map<number, Source>();
  let bytes = 0;
  for (const f of files) {
    if (!f.pending) continue;
    for (const [side, s] of [['a', A], ['b', B]] as const) {
      const k = key(f, side, s);
      if (sources.has(k)) continue;
      const st = f[side]!;
      sources.set(k, { side, layer: st.content!.layer, offset: st.content!.offset, size: st.size });
      bytes += st.size;
    }
  }
  return { work: { files: sources.size, bytes, done: 0, doneBytes: 0 }, sources };
}

/** Hashes what the pending files need and settles them: `content` joins `what`, or the file leaves the list. */
export async function settleContent(cmp: Comparison, A: JoinSide, B: JoinSide, reader: CompareContent, opts: ContentOptions = {}): Promise<Comparison> {
  const { work, sources } = hashWork(cmp.files, A, B);
  opts.onProgress?.({ ...work });
  const jobs = plan([...sources.values()]);
  let next = 0;
  const run = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      await hashJob(reader, job, opts.signal);
      work.done += job.length;
      for (const s of job) work.doneBytes += s.size;
      opts.onProgress?.({ ...work });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, jobs.length) }, run));
  const files: FileDiff[] = [];
  for (const f of cmp.files) {
    if (!f.pending) { files.push(f); continue; }
    const a = f.a!, b = f.b!;
    a.sha256 = sources.get(key(f, 'a', A))!.digest;
    b.sha256 = sources.get(key(f, 'b', B))!.digest;
    delete f.pending;
    if (a.sha256 !== b.sha256) f.what = CHANGE_WHATS.filter((w) => w === 'content' || f.what.includes(w));
    if (f.what.length) files.push(f);
  }
  return { ...cmp, files, counts: countFiles(files), hashing: work, complete: true };
}

/** Jobs in stream order: a big file alone, or a run of neighbouring small files of one layer. */
function plan(sources: Source[]): Source[][] {
  const sorted = sources.sort((x, y) => (x.side === y.side ? 0 : x.side === 'a' ? -1 : 1) || x.layer - y.layer || x.offset - y.offset);
  const jobs: Source[][] = [];
  let cur: Source[] = [];
  for (const s of sorted) {
    const first = cur[0], last = cur[cur.length - 1];
    const fits = first && s.size <= CHUNK && s.side === first.side && s.layer === first.layer &&
      s.offset - (last.offset + last.size) <= GAP && s.offset + s.size - first.offset <= RUN;
    if (!fits) {
      if (cur.length) jobs.push(cur);
      cur = [];
    }
    cur.push(s);
    if (s.size > CHUNK) { jobs.push(cur); cur = []; }
  }
  if (cur.length) jobs.push(cur);
  return jobs;
}

async function hashJob(reader: CompareContent, job: Source[], signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new StrataError('ABORTED', 'The comparison was cancelled.');
  const first = job[0], last = job[job.length - 1];
  if (first.size > CHUNK) { first.digest = await hashLarge(reader, first, signal); return; }
  const start = first.offset, end = last.offset + last.size;
  const bytes = await readExactly(reader, first, start, end - start);
  for (const s of job) {
    const h = reader.sha256();
    h.update(bytes.subarray(s.offset - start, s.offset - start + s.size));
    s.digest = h.digest();
  }
}

async function hashLarge(reader: CompareContent, s: Source, signal?: AbortSignal): Promise<string> {
  const h = reader.sha256();
  for (let at = 0; at < s.size; at += CHUNK) {
    if (signal?.aborted) throw new StrataError('ABORTED', 'The comparison was cancelled.');
    h.update(await readExactly(reader, s, s.offset + at, Math.min(CHUNK, s.size - at)));
  }
  return h.digest();
}

async function readExactly(reader: CompareContent, s: Source, offset: number, length: number): Promise<Uint8Array> {
  const bytes = await reader.read(s.side, s.layer, offset, length);
  if (bytes.length !== length) {
    throw new StrataError('IO', `Reading layer ${s.layer + 1} of image ${s.side.toUpperCase()} to compare a file: got ${bytes.length} of ${length} bytes at ${offset}.`);
  }
  return bytes;
}
