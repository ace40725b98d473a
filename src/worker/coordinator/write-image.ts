// Written images in the browser: a squashed image or one cut at a layer, as one Blob composed of
// the stored layer streams (core/export/image-write.ts lays out every other byte, as for the CLI).
// The squashed layer's tar is composed like the flattened export; its sha256 and, for gzip, its
// blocks are computed on the pool (blocks in parallel, joined here in order). Kept layers are the
// stored decompressed streams: the compressed blobs an archive shipped are not kept after their
// expansion, so such a layer is written uncompressed — the same diff_id, another blob digest.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import { jsSha256 } from '../../core/env.ts';
import { squashRecords } from '../../core/export/squash.ts';
import { checkImageWrite, createdTime, imageArchiveBlob, type BlobLayer, type ImageWriteOptions } from '../../core/export/image-write.ts';
import { blockCount, blockRange, GZIP_LEVEL, GzipJoin } from '../../core/compress/gzip-blocks.ts';
import { FileTree } from '../../core/tree/file-tree.ts';
import * as storage from '../../storage/index.ts';
import type { WriteImageRequest, WriteProgress } from '../../app/engine-api.ts';
import type { JobReply } from '../protocol.ts';
import { composeTar, layerContents, treeOf } from './export.ts';
import { inForeground, newJobId, runJob } from './pool.ts';

type Progress = (p: WriteProgress) => void;

const sha256 = (b: Uint8Array): string => { const h = jsSha256(); h.update(b); return h.digest(); };

/**
 * The written image as a Blob. Work the user waits for, like an export: digest checks and the
 * analysis wait while it runs (right after an import they would take both cores for seconds, and
 * the write hashes the layers it needs itself).
 */
export function writeImage(imageId: string, req: WriteImageRequest, signal: AbortSignal, onProgress: Progress): Promise<Blob> {
  return inForeground(() => write(imageId, req, signal, onProgress));
}

async function write(imageId: string, req: WriteImageRequest, signal: AbortSignal, onProgress: Progress): Promise<Blob> {
  const rec = await storage.readRecord(imageId);
  if (rec?.status !== 'ready') throw new StrataError('NOT_FOUND', `No stored image ${imageId}: it was deleted, or its import did not finish.`);
  // the same spelling of the time as the CLI's (whole seconds without a fraction): the same bytes
  const created = createdTime(req.created, undefined, new Date());
  const o: ImageWriteOptions = { op: req.op, keep: req.keep, format: req.format, tag: req.tag || undefined, compress: req.compress, created };
  checkImageWrite(rec, o);
  const bad = rec.layers.find((l) => l.verify?.state === 'mismatch');
  if (bad) {
    throw new StrataError(bad.verify!.detail?.startsWith('compressed') ? 'DIGEST_MISMATCH' : 'DIFFID_MISMATCH',
      `Layer ${bad.index + 1} of "${rec.image.name}" does not match its digest (${bad.verify!.detail}); an image written from it would not load. Import the archive again from a good copy.`);
  }
  const tree = await treeOf(imageId);
  const aborted = () => { if (signal.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.'); };
  onProgress({ phase: 'waiting', done: 0, total: 0 });
  const keptLayers = [...Array(o.keep).keys()];
  const contents = await layerContents(imageId, tree, keptLayers);
  aborted();

  // kept layers: a verified diff_id is the stored stream's sha256; otherwise it is computed here
  const hashing = new Map<number, number>();
  const hashTotal = keptLayers.reduce((s, i) => s + (rec.layers[i].verify?.state === 'verified' ? 0 : contents[i].size), 0);
  const report = throttle(onProgress);
  const kept: BlobLayer[] = await Promise.all(keptLayers.map(async (i) => {
    const info = rec.layers[i];
    const known = info.verify?.state === 'verified' && info.diffId;
    const diffId = known ? info.diffId! : await hashBlob(contents[i], signal, (n) => {
      hashing.set(i, n);
      report({ phase: 'hashing', done: [...hashing.values()].reduce((a, b) => a + b, 0), total: hashTotal });
    });
    return { blob: contents[i], info: { digest: diffId, diffId, size: contents[i].size, compression: 'none' } };
  }));
  aborted();

  const squashed = async (): Promise<BlobLayer> => {
    onProgress({ phase: 'layer', done: 0, total: 0 });
    const tar = await composeTar(imageId, squashRecords(tree, o.keep, new FileTree(tree)), contents);
    aborted();
    return o.compress ? gzipLayer(tar, signal, report) : plainLayer(tar, signal, report);
  };
  const { blob } = await imageArchiveBlob(rec, o, kept, o.op === 'squash' ? squashed : null, sha256);
  onProgress({ phase: 'done', done: blob.size, total: blob.size });
  return blob;
}

async function plainLayer(tar: Blob, signal: AbortSignal, report: Progress): Promise<BlobLayer> {
  const diffId = await hashBlob(tar, signal, (n) => report({ phase: 'hashing', done: n, total: tar.size }));
  return { blob: tar, info: { digest: diffId, diffId, size: tar.size, compression: 'none' } };
}

/**
 * The layer gzip-compressed in GZIP_BLOCK blocks on the pool (a few in flight, joined in order;
 * the output gathered into Blobs of ~16 MiB, so JS memory stays small), its diff_id hashed on one
 * pool worker meanwhile, the compressed digest here as blocks come.
 */
async function gzipLayer(tar: Blob, signal: AbortSignal, report: Progress): Promise<BlobLayer> {
  const diff = hashBlob(tar, signal, () => {});
  diff.catch(() => {}); // awaited below
  const join = new GzipJoin();
  const digest = jsSha256();
  const parts: Blob[] = [];
  let pending: Uint8Array<ArrayBuffer>[] = [];
  let pendingBytes = 0;
  const add = (b: Uint8Array<ArrayBuffer>) => {
    digest.update(b);
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= 16 << 20) { parts.push(new Blob(pending)); pending = []; pendingBytes = 0; }
  };
  add(join.header as Uint8Array<ArrayBuffer>);
  const n = blockCount(tar.size);
  const inFlight: Promise<JobReply & { type: 'deflated' }>[] = [];
  const start = (i: number) => {
    const r = blockRange(i, tar.size);
    const p = runJob({ type: 'deflate', job: newJobId(), blob: tar, ...r, level: GZIP_LEVEL }, signal) as Promise<JobReply & { type: 'deflated' }>;
    p.catch(() => {}); // awaited in order below
    inFlight.push(p);
  };
  let next = 0;
  for (; next < Math.min(n, 6); next++) start(next);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const m = await inFlight[i];
    delete inFlight[i];
    if (next < n) start(next++);
    const r = blockRange(i, tar.size);
    add(m.bytes);
    join.add(m.crc, r.end - r.start);
    report({ phase: 'compressing', done: r.end, total: tar.size });
  }
  add(join.trailer() as Uint8Array<ArrayBuffer>);
  parts.push(new Blob(pending));
  for (const p of parts) size += p.size;
  const diffId = await diff;
  return { blob: new Blob(parts), info: { digest: digest.digest(), diffId, size, compression: 'gzip' } };
}

function hashBlob(blob: Blob, signal: AbortSignal, onBytes: (n: number) => void): Promise<string> {
  return runJob({ type: 'hash', job: newJobId(), blob }, signal, (n) => onBytes(n)).then((m) => (m as JobReply & { type: 'hashed' }).digest);
}

/** at most one progress message per 100 ms */
function throttle(f: Progress): Progress {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    f(p);
  };
}
