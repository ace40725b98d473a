// An import, from File (or registry) to committed IndexedDB records: open the archive, fan layer
// decoding out to the pool, have the merge worker apply the layers strictly in order, store each
// layer as the archive shipped it (a copy of the File that no byte of passes through JS) while
// layers decode, store the small files the analysis reads early, and commit. What follows the
// commit (expansion, digest checks, analysis) runs in the background. An image pulled from a
// registry goes the same way, each layer once its download is complete and verified.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import { blobSpool } from '../../core/env.ts';
import type { ImageMeta, LayerInfo } from '../../core/model.ts';
import type { Credentials } from '../../core/registry/auth.ts';
import { pullLayers } from '../../core/registry/image.ts';
import { layerLabel } from '../../core/layers/decode.ts';
import * as storage from '../../storage/index.ts';
import type { ImportProgress, ImageSelector, LayerPull } from '../../app/engine-api.ts';
import { columnBuffers } from '../../core/layers/entry-columns.ts';
import type { JobReply } from '../protocol.ts';
import { env } from './context.ts';
import { openCached } from './opened.ts';
import { looksLikeImageLayout, openArchive, type Archive } from '../../core/archive/open.ts';
import { mergeCall, newMergeId } from './merge-client.ts';
import { hasSpare, inImport, newJobId, poolCores, runJob } from './pool.ts';
import { decodeSlots, decodeWork } from '../../core/layers/schedule.ts';
import { openReference } from './registry.ts';
import { rememberTree } from './export.ts';

/** Progress is reported at least this often, whether or not bytes moved (the UI shows it is alive). */
const PROGRESS_MS = 50;

interface LayerImport {
  decoded: Promise<JobReply & { type: 'decoded' }>;
  /** resolves once every byte of the layer, and what its decoder kept for the analysis, is in IndexedDB */
  stored: Promise<unknown>;
}

/**
 * A layer on its way into an import: its Blob once it is here — an archive's at once (a slice of
 * the File), a registry's once its download is complete and its digest checked.
 */
interface LayerFeed {
  info: LayerInfo;
  blob: Promise<Blob>;
  /** compressed bytes the decoder has read of it */
  onDecodeProgress?: (bytesIn: number) => void;
  /** whether its decode may run on the pool's spare worker (`spareWorth`) */
  spare?: Promise<boolean>;
}

/**
 * Decodes one layer on the pool (for its entries) and stores it meanwhile, straight from the
 * archive: an uncompressed layer as its content, a compressed one packed (as shipped), to be
 * expanded after the commit. Inflating and storing the inflated stream during the import cost
 * the 2-core bench machine ~40 % more wall time than inflating alone (README, browser bench).
 * What the decoder kept for the analysis is stored as soon as the decode ends, not when the
 * layer's merge turn comes: writing it (16 MB of Debian copyright files in a /usr/share/doc layer)
 * held the coordinator ≈ 30 ms while the merge, waiting on it, was the last thing the import did.
 */
function importLayer(imageId: string, f: LayerFeed, stop: AbortSignal, fail: (e: unknown) => void): LayerImport {
  // the compression is known once the bytes are (a pulled layer's is read from its first bytes)
  const content = f.blob.then((blob) => storage.storeLayerBlob(imageId, f.info.index, blob, { packed: f.info.compression !== 'none' }));
  const decoded = Promise.all([f.blob, f.spare]).then(([blob, spare]) => runJob({ type: 'decode', job: newJobId(), info: f.info, blob }, stop, f.onDecodeProgress, undefined, spare)) as LayerImport['decoded'];
  // a decode error is the merge loop's to report (it names the lowest bad layer), not a storage failure
  const captured = decoded.then((d) => storage.putCaptured(imageId, f.info.index, d.captured), () => {});
  const stored = Promise.all([content, captured]);
  stored.catch(fail); // a storage failure stops the import at once
  return { decoded, stored };
}

/** Runs `work` with a progress record reported every PROGRESS_MS and at each change it forces. */
async function withProgress<T>(first: ImportProgress, progress: (p: ImportProgress) => void, work: (p: ImportProgress, report: (force?: boolean) => void) => Promise<T>): Promise<T> {
  const p: ImportProgress = { ...first };
  let lastSent = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (force || now - lastSent >= PROGRESS_MS) {
      lastSent = now;
      progress({ ...p, ...(p.pulls ? { pulls: p.pulls.map((l) => ({ ...l })) } : {}) });
    }
  };
  report(true);
  const beat = setInterval(report, PROGRESS_MS);
  try {
    return await work(p, report);
  } finally {
    clearInterval(beat);
  }
}

/**
 * Imports one image of `file`; resolves with the committed record (the tree is browsable). Other
 * images' background work (expansions, digest checks, analysis) waits meanwhile (`inImport`).
 */
export async function importImage(file: Blob, name: string, sel: ImageSelector, signal: AbortSignal, progress: (p: ImportProgress) => void): Promise<storage.StoredImage> {
  return inImport(() => withProgress({ phase: 'reading', bytesRead: 0, bytesTotal: file.size, layer: 0, layers: 0 }, progress, async (p, report) => {
    const onRead = (read: number, total: number) => { p.bytesRead = read; p.bytesTotal = total; };
    const archive = await openCached(file, name, signal, onRead, false);
    try {
      return await importArchive(archive, sel, signal, p, report);
    } catch (e) {
      // a guessed rootfs whose members lay out an image archive, or that failed: open it as before
      // (decompressed whole first), so whatever is wrong is said as for any wrapped archive
      const again = archive.guessed && (e instanceof NotRootfs || (e instanceof StrataError && !KEEP.has(e.code)));
      if (!again) throw e;
      Object.assign(p, { phase: 'reading', bytesRead: 0, bytesTotal: file.size, layer: 0, layers: 0 });
      return importArchive(await openArchive(file, name, env, signal, { onProgress: onRead }), sel, signal, p, report);
    }
  }));
}

/** A guessed rootfs (Archive.guessed) whose members name an image archive. */
class NotRootfs extends Error {}
/** failures of a guessed rootfs that opening it again would not change */
const KEEP = new Set<string>(['ABORTED', 'QUOTA_EXCEEDED', 'STORAGE']);

async function importArchive(archive: Archive, sel: ImageSelector, signal: AbortSignal, p: ImportProgress, report: (force?: boolean) => void): Promise<storage.StoredImage> {
  const img = await archive.resolve(sel);
  const n = img.layers.length;
  p.layers = n;
  p.layer = Math.min(1, n); // 1-based: the first layer is being decoded
  p.phase = 'decoding';
  p.bytesTotal = img.layers.reduce((a, l) => a + l.blob.size, 0);
  const read = new Array<number>(n).fill(0);
  const sum = () => { p.bytesRead = read.reduce((a, b) => a + b, 0); };
  // Largest first: the pool's makespan is bounded by the biggest layer, so it must not wait
  // behind small ones. Merging stays in layer order.
  const order = [...img.layers].sort((a, b) => b.blob.size - a.blob.size);
  const spare = spareWorth(order); // read while the image is begun
  return storeImage(img.meta, signal, p, report, () =>
    order.map((l) => ({
      info: l.info, blob: Promise.resolve(l.blob), spare,
      onDecodeProgress: (bytesIn: number) => { read[l.info.index] = bytesIn; sum(); },
    })),
  (i) => { read[i] = img.layers[i].blob.size; sum(); },
  archive.guessed ? (d) => { if (looksLikeImageLayout(d.entries.names)) throw new NotRootfs(); } : undefined);
}

/**
 * Whether the decodes of `layers` (in the order they are handed out) may take the pool's spare
 * worker: their work — each gzip layer's inflated size from its ISIZE trailer, 4 bytes read — is
 * modelled on the pool's cores (core/layers/schedule.ts). On text-go (three layers of 53–129 MB
 * inflated) three decodes sharing 2 cores took 641–710 ms, two at a time 714–999 ms (raw inflate
 * and tar parse, nothing stored); where one layer outweighs the rest, sharing would only slow it.
 */
async function spareWorth(layers: readonly { info: LayerInfo; blob: Blob }[]): Promise<boolean> {
  const cores = poolCores();
  if (!hasSpare() || layers.length <= cores) return false;
  const work = await Promise.all(layers.map(async ({ info, blob }) =>
    decodeWork(info.compression, blob.size, info.compression === 'gzip' && blob.size >= 18 ? await isize(blob) : undefined)));
  return decodeSlots(work, cores) > cores;
}

/** A gzip blob's ISIZE trailer (its inflated size modulo 2^32); undefined if it cannot be read (the decode will say why). */
async function isize(blob: Blob): Promise<number | undefined> {
  try {
    const b = new Uint8Array(await blob.slice(blob.size - 4).arrayBuffer());
    return b.length === 4 ? (b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24) >>> 0 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pulls one image of a registry reference and imports it: its layers download three at a time in
 * layer order, each into a Blob (its digest checked as it streams), and each goes to storage and
 * the decode pool as soon as it is complete — so downloads, decoding and merging overlap, and the
 * tree is browsable once the last layer is merged, as for an archive.
 */
export async function importFromRegistry(ref: string, sel: ImageSelector, credentials: Credentials | undefined, signal: AbortSignal, progress: (p: ImportProgress) => void): Promise<storage.StoredImage> {
  return inImport(() => withProgress({ phase: 'downloading', bytesRead: 0, bytesTotal: 0, layer: 0, layers: 0 }, progress, async (p, report) => {
    const img = await openReference(ref, credentials, signal);
    const r = await img.resolve(sel, signal);
    const n = r.layers.length;
    const pulls: LayerPull[] = r.layers.map((l) => ({ bytes: 0, total: l.descriptor.size, state: 'waiting' }));
    Object.assign(p, { layers: n, layer: Math.min(1, n), bytesTotal: pulls.reduce((a, l) => a + l.total, 0), pulls });
    let arrived = 0;
    return storeImage(r.meta, signal, p, report, (stop) => {
      const blobs = pullLayers(img.client, r.layers, () => blobSpool(4 << 20), {
        parallel: PULLS, signal: stop,
        onProgress: (i, bytes) => {
          pulls[i].state = 'downloading';
          pulls[i].bytes = bytes;
          p.bytesRead = pulls.reduce((a, l) => a + l.bytes, 0);
        },
      });
      return r.layers.map((l, i) => ({
        info: l.info,
        blob: blobs[i].then((blob) => {
          pulls[i].state = 'decoding';
          if (++arrived === n) p.phase = 'decoding';
          report(true);
          return blob;
        }),
      }));
    }, (i) => { pulls[i].state = 'done'; });
  }));
}

/** Layers downloading at once: browsers open six connections a host; the rest serve manifests and the page. */
const PULLS = 3;

/**
 * The part of an import that does not depend on where the layers come from: begin the stored
 * image, store and decode each layer as its feed delivers it, merge in layer order, store the
 * tree and commit. `feeds` is called with the signal that stops everything (cancel or a failure).
 */
async function storeImage(meta: ImageMeta, signal: AbortSignal, p: ImportProgress, report: (force?: boolean) => void,
  feeds: (stop: AbortSignal) => LayerFeed[], onMerged: (i: number) => void,
  check?: (decoded: JobReply & { type: 'decoded' }) => void): Promise<storage.StoredImage> {
  const n = meta.layers.length;
  for (const l of meta.layers) l.verify = { state: 'pending' };
  const imageId = await storage.beginImage(meta);
  const merge = newMergeId();
  // One switch stops every decode job and download: the user's cancel, the first failure, or any error.
  const stop = new AbortController();
  let failure: unknown = null;
  const fail = (e: unknown) => { failure ??= e; stop.abort(); };
  const onCancel = () => stop.abort();
  signal.addEventListener('abort', onCancel, { once: true });
  try {
    const layers = new Array<LayerImport>(n);
    for (const f of feeds(stop.signal)) {
      f.blob.catch(fail); // a download that fails stops the others at once
      layers[f.info.index] = importLayer(imageId, f, stop.signal, fail);
    }
    // awaited below, in layer order (so a decode error names the lowest bad layer, as before);
    // storage failures stop everything at once through `fail`
    for (const l of layers) { l.decoded.catch(() => {}); l.stored.catch(() => {}); }
    await mergeCall({ type: 'begin', merge, layers: n });
    for (let i = 0; i < n; i++) {
      const d = await layers[i].decoded;
      if (signal.aborted) throw new StrataError('ABORTED', 'The import was cancelled.');
      check?.(d);
      p.layer = i + 1;
      report(true);
      // awaited layer by layer, so a merge error of a lower layer wins over a later decode error
      const info = meta.layers[i];
      const { counts } = await mergeCall<'counts'>({ type: 'layer', merge, index: i, entries: d.entries, what: layerLabel(info, n) }, columnBuffers(d.entries));
      Object.assign(info, counts, { size: d.size });
      onMerged(i);
    }
    p.phase = 'storing';
    report(true);
    const { tree } = await mergeCall<'tree'>({ type: 'encode', merge });
    await Promise.all([...layers.map((l) => l.stored), storage.putTree(imageId, tree), storage.updateImageMeta(imageId, meta)]);
    if (signal.aborted) throw new StrataError('ABORTED', 'The import was cancelled.');
    const rec = await storage.commitImage(imageId);
    rememberTree(imageId, tree); // the app opens it next: its tree need not be read back
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
}
