// worker_threads glue: one layer per message → decodeLayer (+ compressed digest) → result; or a
// batch of small files to scan for secrets (the analysis's content phase, spread over the cores).
import { parentPort, threadId } from 'node:worker_threads';
import { join } from 'node:path';
import { decodeLayer } from '../core/layers/decode.ts';
import { EntryPacker } from '../core/layers/entry-columns.ts';
import { toErrorInfo } from '../core/errors.ts';
import type { LayerInfo } from '../core/model.ts';
import { FileSpool, nodeSha256 } from './node-env.ts';
import { fileBlob } from './file-blob.ts';
import { fileSource, hashFile } from './file-source.ts';
import { layerLabel } from '../core/layers/decode.ts';
import type { CoreEnv } from '../core/env.ts';
import type { ScanColumns } from './analyze.ts';
import { scanContent, type ContentHit } from '../core/analysis/sensitive.ts';
import { FileContent } from './file-content.ts';

export interface DecodeJob {
  id: number;
  archive: string;
  start: number;
  end: number;
  info: LayerInfo;
  tmpDir: string;
  hashDiffId: boolean;
  hashDigest: boolean;
  /** keep the uncompressed stream (flatten needs content; ls/inspect do not) */
  spool: boolean;
}

/** Small files of the decoded layers, each scanned with the core's scanContent. */
export interface ScanJob {
  id: number;
  kind: 'scan';
  /** where each layer's uncompressed stream is (as `load` left it) */
  files: { path: string; base: number }[];
  /** in layer and offset order, so neighbours are read together */
  items: ScanColumns;
  /** where each run of items starts (ends where the next starts); runs are taken in turn */
  runs: number[];
  /** the next run to take, shared by every worker of the scan (an Int32Array over it) */
  next: SharedArrayBuffer;
}

let seq = 0;

parentPort!.on('message', (job: DecodeJob | ScanJob) => {
  if ('kind' in job && job.kind === 'scan') void scan(job);
  else void decode(job as DecodeJob);
});

/**
 * Takes runs of the items until none is left (the other workers take theirs from the same counter,
 * with no message in between: the main thread is busy with the analysis's other phases); reads
 * neighbouring files in spans of up to 8 MiB and scans each; only hits go back.
 */
async function scan(job: ScanJob): Promise<void> {
  const src = new FileContent(job.files);
  const next = new Int32Array(job.next);
  try {
    const found: [number, ContentHit[]][] = [];
    const paths = job.items.paths.split('\0');
    for (let r = Atomics.add(next, 0, 1); r < job.runs.length; r = Atomics.add(next, 0, 1)) {
      scanRun(src, job.items, paths, job.runs[r], job.runs[r + 1] ?? paths.length, found);
    }
    parentPort!.postMessage({ id: job.id, result: { found } });
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: toErrorInfo(e) });
  } finally {
    src.close();
  }
}

/** the items [from, to): neighbours read in spans of up to 8 MiB, each scanned; hits into `found` */
function scanRun(src: FileContent, items: ScanColumns, paths: string[], from: number, to: number, found: [number, ContentHit[]][]): void {
  const { layer, offset, size } = items;
  for (let i = from; i < to;) {
    const start = offset[i];
    let j = i + 1, end = start + size[i];
    while (j < to && layer[j] === layer[i] && offset[j] - end <= SPAN_GAP && offset[j] + size[j] - start <= SPAN_MAX) {
      end = Math.max(end, offset[j] + size[j]);
      j++;
    }
    const len = end - start;
    const bytes = src.readInto(layer[i], start, len <= spanBuffer.length ? spanBuffer.subarray(0, len) : new Uint8Array(len));
    for (let k = i; k < j; k++) {
      const hits = scanContent(bytes.subarray(offset[k] - start, offset[k] - start + size[k]), paths[k], latin1);
      if (hits.length) found.push([k, hits]);
    }
    i = j;
  }
}

/** the same characters as the core's TextDecoder('latin1') (ISO-8859-1 in Node), three times as fast */
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

const SPAN_GAP = 256 << 10;
const SPAN_MAX = 8 << 20;
/** every span is read into this one buffer (its files are scanned before the next read) */
const spanBuffer = new Uint8Array(SPAN_MAX);

async function decode(job: DecodeJob): Promise<void> {
  const spools: FileSpool[] = [];
  const env: CoreEnv = {
    spool: () => { const s = new FileSpool(join(job.tmpDir, `layer-${job.info.index}-t${threadId}-${seq++}`)); spools.push(s); return s; },
    sha256: nodeSha256,
  };
  try {
    const blob = fileBlob(job.archive).slice(job.start, job.end);
    let last = 0;
    const source = fileSource(job.archive, job.start, job.end, job.info.compression, layerLabel(job.info)) ?? undefined;
    const packer = new EntryPacker();
    const [d, digest] = await Promise.all([
      decodeLayer(job.info, blob, env, {
        source,
        onEntry: (e) => packer.add(e),
        spool: job.spool,
        hashDiffId: job.hashDiffId,
        onProgress: (a, b) => {
          const now = Date.now();
          if (now - last > 200) { last = now; parentPort!.postMessage({ id: job.id, progress: [a, b] }); }
        },
      }),
      job.hashDigest ? hashFile(job.archive, job.start, job.end, nodeSha256()) : Promise.resolve(undefined),
    ]);
    const { columns, transfer } = packer.finish();
    parentPort!.postMessage({
      id: job.id,
      result: { columns, size: d.size, diffId: d.diffId, digest, spool: spools.length ? spools[spools.length - 1].path : null },
    }, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: toErrorInfo(e) });
  }
}
