// An import, from File to committed IndexedDB records: open the archive, fan layer decoding out to
// the pool, have the merge worker apply the layers strictly in order, store each layer as the
// archive shipped it (a copy of the File that no byte of passes through JS) while layers decode,
// store the small files the analysis reads early, and commit. What follows the commit (expansion,
// digest checks, analysis) runs in the background.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import { openArchive, type LayerSource } from '../../core/archive/open.ts';
import { layerLabel } from '../../core/layers/decode.ts';
import * as storage from '../../storage/index.ts';
import type { ImportProgress, ImageSelector } from '../../app/engine-api.ts';
import { columnBuffers } from '../../core/layers/entry-columns.ts';
import type { JobReply } from '../protocol.ts';
import { env } from './context.ts';
import { mergeCall, newMergeId } from './merge-client.ts';
import { newJobId, runJob } from './pool.ts';

/** Progress is reported at least this often, whether or not bytes moved (the UI shows it is alive). */
const PROGRESS_MS = 50;

interface LayerImport {
  decoded: Promise<JobReply & { type: 'decoded' }>;
  /** resolves with the stored size once every byte of the layer is in IndexedDB */
  stored: Promise<number>;
}

/**
 * Decodes one layer on the pool (for its entries) and stores it meanwhile, straight from the
 * archive: an uncompressed layer as its content, a compressed one packed (as shipped), to be
 * expanded after the commit. Inflating and storing the inflated stream during the import cost
 * the 2-core bench machine ~40 % more wall time than inflating alone (README, browser bench).
 */
function importLayer(imageId: string, l: LayerSource, stop: AbortSignal, fail: (e: unknown) => void, onProgress: (bytesIn: number) => void): LayerImport {
  const stored = storage.storeLayerBlob(imageId, l.info.index, l.blob, { packed: l.info.compression !== 'none' });
  stored.catch(fail);
  const decoded = runJob({ type: 'decode', job: newJobId(), info: l.info, blob: l.blob }, stop, onProgress) as LayerImport['decoded'];
  return { decoded, stored };
}

/** Imports one image of `file`; resolves with the committed record (the tree is browsable). */
export async function importImage(file: Blob, name: string, sel: ImageSelector, signal: AbortSignal, progress: (p: ImportProgress) => void): Promise<storage.StoredImage> {
  const p: ImportProgress = { phase: 'reading', bytesRead: 0, bytesTotal: file.size, layer: 0, layers: 0 };
  let lastSent = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (force || now - lastSent >= PROGRESS_MS) { lastSent = now; progress({ ...p }); }
  };
  report(true);
  const beat = setInterval(report, PROGRESS_MS);
  try {
    const archive = await openArchive(file, name, env, signal);
    const img = await archive.resolve(sel);
    const n = img.layers.length;
    p.layers = n;
    p.layer = Math.min(1, n); // 1-based: the first layer is being decoded
    p.phase = 'decoding';
    p.bytesTotal = img.layers.reduce((a, l) => a + l.blob.size, 0);
    for (const l of img.meta.layers) l.verify = { state: 'pending' };
    const imageId = await storage.beginImage(img.meta);
    const merge = newMergeId();
    // One switch stops every decode job: the user's cancel, the first storage failure, or any error.
    const stop = new AbortController();
    let failure: unknown = null;
    const fail = (e: unknown) => { failure ??= e; stop.abort(); };
    const onCancel = () => stop.abort();
    signal.addEventListener('abort', onCancel, { once: true });
    try {
      const read = new Array<number>(n).fill(0);
      // Largest first: the pool's makespan is bounded by the biggest layer, so it must not wait
      // behind small ones. Merging stays in layer order.
      const layers = new Array<LayerImport>(n);
      for (const l of [...img.layers].sort((a, b) => b.blob.size - a.blob.size)) {
        layers[l.info.index] = importLayer(imageId, l, stop.signal, fail, (bytesIn) => {
          read[l.info.index] = bytesIn;
          p.bytesRead = read.reduce((a, b) => a + b, 0);
        });
      }
      // awaited below, in layer order (so a decode error names the lowest bad layer, as before);
      // storage failures stop everything at once through `fail`
      for (const l of layers) { l.decoded.catch(() => {}); l.stored.catch(() => {}); }
      const captures: Promise<void>[] = [];
      await mergeCall({ type: 'begin', merge, layers: n });
      for (let i = 0; i < n; i++) {
        const d = await layers[i].decoded;
        if (signal.aborted) throw new StrataError('ABORTED', 'The import was cancelled.');
        read[i] = img.layers[i].blob.size;
        p.layer = i + 1;
        report(true);
        const kept = storage.putCaptured(imageId, i, d.captured);
        kept.catch(fail);
        captures.push(kept);
        // awaited layer by layer, so a merge error of a lower layer wins over a later decode error
        const info = img.meta.layers[i];
        const { counts } = await mergeCall<'counts'>({ type: 'layer', merge, index: i, entries: d.entries, what: layerLabel(info, n) }, columnBuffers(d.entries));
        Object.assign(info, counts, { size: d.size });
      }
      p.phase = 'storing';
      report(true);
      const { tree } = await mergeCall<'tree'>({ type: 'encode', merge });
      await Promise.all([...layers.map((l) => l.stored), ...captures, storage.putTree(imageId, tree)]);
      await storage.updateImageMeta(imageId, img.meta);
      if (signal.aborted) throw new StrataError('ABORTED', 'The import was cancelled.');
      const rec = await storage.commitImage(imageId);
      p.phase = 'done';
      report(true);
      return rec;
    } catch (e) {
      // decided before stopping: stopping makes the other layers' writes fail too
      const why = signal.aborted ? e : failure ?? e;
      stop.abort();
      void mergeCall({ type: 'drop', merge }).catch(() => {});
      await storage.abortImage(imageId).catch(() => {});
      throw why;
    } finally {
      signal.removeEventListener('abort', onCancel);
    }
  } finally {
    clearInterval(beat);
  }
}
