// Digest checks, off the critical path (the tree is browsable meanwhile): the compressed blob's
// sha256 taken while expanding it (kept in the record), the stored content for the diff_id (and
// for both of an uncompressed layer). The result is stored and posted.
/// <reference lib="webworker" />
import { toErrorInfo } from '../../core/errors.ts';
import type { LayerVerify } from '../../core/model.ts';
import * as storage from '../../storage/index.ts';
import type { JobReply } from '../protocol.ts';
import { post } from './context.ts';
import { stopOf } from './expansion.ts';
import { foregroundIdle, newJobId, runJob, yieldToForeground } from './pool.ts';

export async function verifyLayer(imageId: string, layer: number): Promise<void> {
  const stop = stopOf(imageId);
  const release = await storage.holdExpansionLock(imageId, layer);
  try {
    const rec = await storage.readRecord(imageId);
    const info = rec?.status === 'ready' ? rec.layers.find((l) => l.index === layer) : undefined;
    if (!info || info.verify?.state !== 'pending') return; // deleted, or verified by another tab
    let verify: LayerVerify;
    if (rec!.packed?.includes(layer)) {
      // its expansion failed (and said why): there is no content to hash
      verify = { state: 'unverifiable', detail: 'its content could not be stored decompressed, so its diff_id cannot be checked (the error is shown when one of its files is opened)' };
    } else {
      const compressed = info.compression === 'none' ? null : rec!.digests?.[layer] ?? null;
      for (;;) {
        // an export the user waits for goes first: one that begins meanwhile stops this hash (seconds
        // of SHA-256 on a core it needs; an uncompressed image is checked right after its commit),
        // which starts again once the export is done
        await foregroundIdle();
        const yielding = yieldToForeground();
        try {
          verify = await storage.layerContentBlob(imageId, layer)
            .then((content) => runJob({ type: 'verify', job: newJobId(), info, compressed, content }, AbortSignal.any([stop, yielding.signal])))
            .then((m) => (m as JobReply & { type: 'verified' }).verify);
          break;
        } catch (e) {
          if (yielding.signal.aborted && !stop.aborted) continue;
          verify = { state: 'unverifiable', detail: toErrorInfo(e).message };
          break;
        } finally {
          yielding.done();
        }
      }
    }
    if (stop.aborted) return; // being deleted
    await storage.setVerify(imageId, layer, verify).catch(() => {});
    post({ type: 'verify', imageId, layer, verify });
  } finally {
    release();
  }
}
