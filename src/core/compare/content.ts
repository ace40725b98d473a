// Deciding the `pending` files of a comparison: equal sizes, content from different sources. Each
// distinct source is hashed once (sha256, streamed in 4 MiB reads) through a reader the platform
// supplies — the CLI's spool files, the browser's stored layers. Nothing else is read.
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
  /** after each file hashed (and once at the start) */
  onProgress?: (work: HashWork) => void;
}

const CHUNK = 4 << 20;
/** reads in flight: the browser's reads of stored Blobs are latency-bound */
const PARALLEL = 4;

interface Source { side: SideKey; layer: number; offset: number; size: number; digest?: string }

/** The sources the pending files need hashed, each once. */
export function hashWork(files: FileDiff[], A: JoinSide, B: JoinSide): { work: HashWork; sources: Map<string, Source> } {
  const sources = new Map<string, Source>();
  for (const f of files) {
    if (!f.pending) continue;
    for (const [side, s, st] of [['a', A, f.a!], ['b', B, f.b!]] as const) {
      const key = s.sourceKey(side, st.content!.layer, st.content!.offset);
      if (!sources.has(key)) sources.set(key, { side, layer: st.content!.layer, offset: st.content!.offset, size: st.size });
    }
  }
  let bytes = 0;
  for (const s of sources.values()) bytes += s.size;
  return { work: { files: sources.size, bytes, done: 0, doneBytes: 0 }, sources };
}

/** Hashes what the pending files need and settles them: `content` joins `what`, or the file leaves the list. */
export async function settleContent(cmp: Comparison, A: JoinSide, B: JoinSide, reader: CompareContent, opts: ContentOptions = {}): Promise<Comparison> {
  const { work, sources } = hashWork(cmp.files, A, B);
  opts.onProgress?.({ ...work });
  const list = [...sources.values()];
  let next = 0;
  const run = async () => {
    while (next < list.length) {
      const s = list[next++];
      s.digest = await hashSource(reader, s, opts.signal);
      work.done++;
      work.doneBytes += s.size;
      opts.onProgress?.({ ...work });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, list.length) }, run));
  const files: FileDiff[] = [];
  for (const f of cmp.files) {
    if (!f.pending) { files.push(f); continue; }
    const a = f.a!, b = f.b!;
    a.sha256 = sources.get(A.sourceKey('a', a.content!.layer, a.content!.offset))!.digest;
    b.sha256 = sources.get(B.sourceKey('b', b.content!.layer, b.content!.offset))!.digest;
    delete f.pending;
    if (a.sha256 !== b.sha256) f.what = CHANGE_WHATS.filter((w) => w === 'content' || f.what.includes(w));
    if (f.what.length) files.push(f);
  }
  return { ...cmp, files, counts: countFiles(files), hashing: work, complete: true };
}

async function hashSource(reader: CompareContent, s: Source, signal?: AbortSignal): Promise<string> {
  const h = reader.sha256();
  for (let at = 0; at < s.size; at += CHUNK) {
    if (signal?.aborted) throw new StrataError('ABORTED', 'The comparison was cancelled.');
    const want = Math.min(CHUNK, s.size - at);
    const bytes = await reader.read(s.side, s.layer, s.offset + at, want);
    if (bytes.length !== want) {
      throw new StrataError('IO', `Reading layer ${s.layer + 1} of image ${s.side.toUpperCase()} to compare a file: got ${bytes.length} of ${want} bytes at ${s.offset + at}.`);
    }
    h.update(bytes);
  }
  return h.digest();
}
