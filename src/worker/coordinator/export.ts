// Exports: the merged tree (or a subtree, as of a layer) as a tar Blob composed from the stored
// layer content; pool workers build its windows in parallel while this thread makes the records.
/// <reference lib="webworker" />
import { StrataError, toErrorInfo } from '../../core/errors.ts';
import { tarContentRefs, tarRecords, type TarRecord } from '../../core/export/tar-export.ts';
import type { EncodedTree } from '../../core/model.ts';
import * as storage from '../../storage/index.ts';
import type { JobReply } from '../protocol.ts';
import { windowedTarBlob, windowBlob, type WindowBuilder } from '../tar-blob.ts';
import { layerStream } from './expansion.ts';
import { BlobSink, streamedTar, type TarSink } from './export-stream.ts';
import { PortSink } from './download-port.ts';
import { freeWorkers, inForeground, holdingExpansions, linger, newJobId, runJob } from './pool.ts';

let cached: { id: string; tree: EncodedTree } | null = null;

/** the tree of an image, kept for the next export of the same image */
export async function treeOf(imageId: string): Promise<EncodedTree> {
  if (cached?.id !== imageId) cached = { id: imageId, tree: (await storage.openImage(imageId)).tree };
  return cached.tree;
}

export function rememberTree(imageId: string, tree: EncodedTree | null): void {
  if (tree) cached = { id: imageId, tree };
  else if (cached?.id === imageId) cached = null;
}

/** The tree of `imageId` if it is the one remembered (the last imported or opened). */
export const rememberedTree = (imageId: string): EncodedTree | undefined => (cached?.id === imageId ? cached.tree : undefined);

export function exportTar(imageId: string, layer: number | undefined, path: string | undefined, gzip: boolean | undefined): Promise<Blob> {
  return inForeground(async () => {
    const sink = new BlobSink();
    return await tarInto(imageId, layer, path, gzip, sink) ?? gzipped(sink.result(), gzip);
  });
}

/**
 * The same tar, written to a download the service worker streams (download-port.ts): right after
 * an import the packed layers are inflated straight into the file, never into a Blob, and stored
 * content is read ahead in spans (export-stream.ts) — faster than the browser saving the Blob
 * stitched from stored slices (libs-docker 8.2 vs 12.1 s). `onStreaming` is called before the
 * first byte (the page then opens the download's URL); resolves with null once the last chunk
 * was taken. When a packed layer gives too many files out of order, nothing is streamed: resolves
 * with the Blob exportTar makes from the stored content, and the port is let go. Gzip, when
 * streamed, is the service worker's.
 */
export function exportToPort(imageId: string, layer: number | undefined, path: string | undefined, gzip: boolean | undefined, port: MessagePort, signal: AbortSignal, onStreaming: () => void): Promise<Blob | null> {
  const sink = new PortSink(port, onStreaming);
  const cancel = () => sink.fail('The export was cancelled.');
  signal.addEventListener('abort', cancel, { once: true });
  return inForeground(async () => {
    const tar = await tarInto(imageId, layer, path, gzip, sink, true, async () => {
      await sink.end();
      // The browser still writes what the service worker holds and then syncs the file: 123–608 ms
      // after the last chunk for 0.3–1.6 GB here (bench: the ceiling's tail), 37–273 ms longer while
      // the digest checks and expansions started again at once. They wait that long more.
      linger(finishGraceMs(sink.bytes));
    });
    if (tar) sink.discard();
    return tar;
  }).catch((e: unknown) => {
    sink.fail(toErrorInfo(e).message);
    throw e;
  }).finally(() => signal.removeEventListener('abort', cancel));
}

/**
 * The tar written into `sink` (null): packed layers inflated straight into it, stored ones read
 * ahead — stored content only with `storedToo` (a download: a Blob stitched from stored slices
 * passes no byte through JavaScript, the right thing for exportTar). Otherwise, or when a packed
 * layer gives too many files out of order, nothing goes to `sink` and the tar is composed from the
 * stored content. `onStreamed` runs once the tar is in `sink`, while the expansions are still held.
 */
async function tarInto(imageId: string, layer: number | undefined, path: string | undefined, gzip: boolean | undefined, sink: TarSink, storedToo = false,
  onStreamed?: () => Promise<void>): Promise<Blob | null> {
  // expansions pause from the request on, not only once the export streams: reading the tree and
  // making the plan take a while right after an import, and an expansion running meanwhile took
  // the cores the export's inflate needs. Left before a tar composed from the stored content,
  // which waits for the expansions.
  const tree = await holdingExpansions(async () => {
    const t = await treeOf(imageId);
    if (!await streamedTar(imageId, t, tarRecords(t, { layer, path }), tarContentRefs(t, { layer, path }), sink, { storedToo })) return t;
    await onStreamed?.(); // still holding the expansions
    return null;
  });
  if (!tree) return null;
  return gzipped(await composeTar(imageId, tarRecords(tree, { layer, path }), await layerContents(imageId, tree)), gzip);
}

/** How long background work waits after a streamed download's last chunk: 150 ms + 0.4 ms per MB, at most 1.5 s. */
export const finishGraceMs = (bytes: number): number => Math.min(1500, 150 + bytes / 2.5e6);

const gzipped = (tar: Blob, gzip: boolean | undefined): Promise<Blob> | Blob =>
  gzip ? new Response(tar.stream().pipeThrough(new CompressionStream('gzip'))).blob() : tar;

/**
 * Each layer's whole stream for every layer that holds file content (a missing one is an error,
 * never an empty file); layers without content are empty Blobs. Layers still being expanded are
 * waited for (exportTar streams a just-imported image's packed layers instead: export-stream.ts).
 */
export async function layerContents(imageId: string, tree: EncodedTree, alsoNeeded: Iterable<number> = []): Promise<Blob[]> {
  const needed = new Set<number>(alsoNeeded);
  for (let i = 0; i < tree.iType.length; i++) if (tree.iSize[i] > 0 && tree.iLayer[i] >= 0) needed.add(tree.iLayer[i]);
  return Promise.all([...Array(tree.layerCount).keys()].map((l) => (needed.has(l) ? layerStream(imageId, l) : Promise.resolve(new Blob([])))));
}

/** Tar records as one Blob, content from `contents`. */
export async function composeTar(imageId: string, records: Iterable<TarRecord>, contents: Blob[]): Promise<Blob> {
  // Pool workers build the windows in parallel while this thread makes the records. Right after
  // an import they may all be verifying (for a while): then this thread builds them itself.
  const free = freeWorkers();
  const build: WindowBuilder = free
    ? (records) => runJob({ type: 'tarWindow', job: newJobId(), records, contents }, undefined).then((m) => (m as JobReply & { type: 'window' }).blob)
    : (records) => windowBlob(records, (l) => contents[l]);
  return windowedTarBlob(records, build, free + 1)
    .catch((e: unknown) => { throw e instanceof StrataError ? e : new StrataError('STORAGE', `Reading the stored content of image ${imageId} for the export: ${toErrorInfo(e).message}. Delete the image and import it again.`, { cause: e }); });
}
