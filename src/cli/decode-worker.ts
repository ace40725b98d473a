// worker_threads glue: one layer per message → decodeLayer (+ compressed digest) → result.
import { parentPort, threadId } from 'node:worker_threads';
import { join } from 'node:path';
import { decodeLayer } from '../core/layers/decode.ts';
import { toErrorInfo } from '../core/errors.ts';
import type { LayerInfo } from '../core/model.ts';
import { FileSpool, nodeSha256 } from './node-env.ts';
import { fileBlob } from './file-blob.ts';
import { fileSource, hashFile } from './file-source.ts';
import { layerLabel } from '../core/layers/decode.ts';
import type { CoreEnv } from '../core/env.ts';

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

let seq = 0;

parentPort!.on('message', async (job: DecodeJob) => {
  const spools: FileSpool[] = [];
  const env: CoreEnv = {
    spool: () => { const s = new FileSpool(join(job.tmpDir, `layer-${job.info.index}-t${threadId}-${seq++}`)); spools.push(s); return s; },
    sha256: nodeSha256,
  };
  try {
    const blob = fileBlob(job.archive).slice(job.start, job.end);
    let last = 0;
    const source = fileSource(job.archive, job.start, job.end, job.info.compression, layerLabel(job.info)) ?? undefined;
    const [d, digest] = await Promise.all([
      decodeLayer(job.info, blob, env, {
        source,
        spool: job.spool,
        hashDiffId: job.hashDiffId,
        onProgress: (a, b) => {
          const now = Date.now();
          if (now - last > 200) { last = now; parentPort!.postMessage({ id: job.id, progress: [a, b] }); }
        },
      }),
      job.hashDigest ? hashFile(job.archive, job.start, job.end, nodeSha256()) : Promise.resolve(undefined),
    ]);
    parentPort!.postMessage({
      id: job.id,
      result: { entries: d.entries, size: d.size, diffId: d.diffId, digest, spool: spools.length ? spools[spools.length - 1].path : null },
    });
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: toErrorInfo(e) });
  }
});
