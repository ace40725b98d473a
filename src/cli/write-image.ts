// `strata squash` and `strata cut`: a written image into one file, in one pass with bounded memory.
// Kept layers are copied from the archive as they are; the squashed layer is streamed from the
// layer spool files, hashed on the way and (gzip) compressed in 1 MiB blocks on worker threads;
// its member header is written last, over 512 bytes reserved for it. Temp file + rename: a failed
// run leaves nothing behind.
import { closeSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { StrataError } from '../core/errors.ts';
import type { ResolvedImage } from '../core/archive/open.ts';
import type { EncodedTree, ImageMeta } from '../core/model.ts';
import { squashRecords } from '../core/export/squash.ts';
import type { TarRecord } from '../core/export/tar-export.ts';
import { checkImageWrite, writeImageArchive, type ImageWriteOptions, type LayerBlob, type WrittenImage } from '../core/export/image-write.ts';
import { GZIP_BLOCK, GZIP_LEVEL, GZIP_WINDOW, GzipJoin, deflateBlock } from '../core/compress/gzip-blocks.ts';
import { padding } from '../core/tar/writer.ts';
import { compressBlock, type GzipDone, type GzipJob } from './gzip-worker.ts';

/** What the command needs of a loaded image (main.ts `load` with digests verified and content spooled). */
export interface LoadedImage {
  meta: ImageMeta;
  tree: EncodedTree;
  computedDiffIds: (string | undefined)[];
  /** where each layer's uncompressed stream lives: a spool file, or a range of the archive */
  files: { path: string; base: number }[];
}

const sha256 = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export async function writeImageFile(res: LoadedImage, img: ResolvedImage, o: ImageWriteOptions, out: string): Promise<WrittenImage> {
  checkImageWrite(res.meta, o);
  const tmp = join(dirname(out), `.${basename(out)}.strata-${process.pid}.tmp`);
  let file: OutFile;
  try {
    file = new OutFile(openSync(tmp, 'w'));
  } catch (e) {
    throw new StrataError('IO', `writing ${out}: ${ioMessage(e)}`, { cause: e });
  }
  try {
    const kept = await keptBlobs(res, img, o.keep);
    const written = await writeImageArchive(res.meta, o, kept, {
      write: (b) => file.write(b),
      writeKept: (i) => copyBlob(img.layers[i].blob, file),
      writeSquashed: (header) => writeSquashed(res, o, file, header),
    }, sha256);
    file.close();
    renameSync(tmp, out);
    return written;
  } catch (e) {
    file.close();
    try { unlinkSync(tmp); } catch { /* gone */ }
    if (e instanceof StrataError) throw e;
    throw new StrataError('IO', `writing ${out}: ${ioMessage(e)}`, { cause: e });
  }
}

/** a system error's own message ("ENOENT: no such file or directory, open '…'"), never a stack */
const ioMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** The kept layers as the archive has them. Their digests were verified while loading (or are computed here). */
async function keptBlobs(res: LoadedImage, img: ResolvedImage, keep: number): Promise<LayerBlob[]> {
  const out: LayerBlob[] = [];
  for (let i = 0; i < keep; i++) {
    const info = res.meta.layers[i];
    const diffId = res.computedDiffIds[i];
    if (!diffId) throw new Error(`layer ${i + 1}: no diff_id was computed`);
    const blob = img.layers[i].blob;
    const digest = info.compression === 'none' ? diffId : info.digest ?? await hashBlob(blob);
    out.push({ digest, diffId, size: blob.size, compression: info.compression });
  }
  return out;
}

async function hashBlob(blob: Blob): Promise<string> {
  const h = createHash('sha256');
  for await (const c of blob.stream() as unknown as AsyncIterable<Uint8Array>) h.update(c);
  return 'sha256:' + h.digest('hex');
}

async function copyBlob(blob: Blob, file: OutFile): Promise<void> {
  for await (const c of blob.stream() as unknown as AsyncIterable<Uint8Array>) file.write(c);
}

/** The squashed layer member: reserved header, the layer (hashed, maybe compressed), padding; then the header. */
async function writeSquashed(res: LoadedImage, o: ImageWriteOptions, file: OutFile, header: (b: LayerBlob) => Uint8Array | null): Promise<LayerBlob> {
  const at = file.position;
  file.write(new Uint8Array(512));
  const diff = createHash('sha256');
  let blob: LayerBlob;
  if (!o.compress) {
    const digestStart = file.position;
    await streamRecords(squashRecords(res.tree, o.keep), res.files, (c) => { diff.update(c); file.write(c); });
    const diffId = 'sha256:' + diff.digest('hex');
    blob = { digest: diffId, diffId, size: file.position - digestStart, compression: 'none' };
  } else {
    const digest = createHash('sha256');
    let size = 0;
    const emit = (b: Uint8Array) => { digest.update(b); file.write(b); size += b.length; };
    const gz = new BlockGzip(emit);
    try {
      await streamRecords(squashRecords(res.tree, o.keep), res.files, (c) => { diff.update(c); return gz.put(c); });
      await gz.finish();
    } finally {
      await gz.close();
    }
    blob = { digest: 'sha256:' + digest.digest('hex'), diffId: 'sha256:' + diff.digest('hex'), size, compression: 'gzip' };
  }
  file.write(new Uint8Array(padding(blob.size)));
  const h = header(blob);
  if (h) file.patch(at, h);
  else file.truncate(at);
  return blob;
}

/**
 * The bytes of tar records, in order, as views of a reused buffer: `put` must take them before it
 * returns (or before its promise settles). Content is read from the layer files.
 */
async function streamRecords(records: Iterable<TarRecord>, files: { path: string; base: number }[], put: (b: Uint8Array) => void | Promise<void>): Promise<void> {
  const fds = new Map<number, number>();
  const buf = new Uint8Array(1 << 20);
  try {
    for (const r of records) {
      if (r instanceof Uint8Array) { const p = put(r); if (p) await p; continue; }
      let fd = fds.get(r.layer);
      if (fd === undefined) { fd = openSync(files[r.layer].path, 'r'); fds.set(r.layer, fd); }
      for (let done = 0; done < r.size;) {
        const want = Math.min(buf.length, r.size - done);
        const n = readSync(fd, buf, 0, want, files[r.layer].base + r.offset + done);
        if (n <= 0) throw new StrataError('IO', `layer ${r.layer + 1}: its content ends early at byte ${r.offset + done}`);
        const p = put(buf.subarray(0, n));
        if (p) await p;
        done += n;
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

/** The output file through a 4 MiB buffer, with its position; the squashed layer's header is patched in. */
class OutFile {
  private buf = new Uint8Array(4 << 20);
  private fill = 0;
  /** file offset where the buffer goes (writes are positional: a truncate needs no seek) */
  private at = 0;
  position = 0;
  constructor(private fd: number) {}

  write(b: Uint8Array): void {
    this.position += b.length;
    if (b.length > this.buf.length - this.fill) this.flush();
    if (b.length >= this.buf.length) { this.put(b); return; }
    this.buf.set(b, this.fill);
    this.fill += b.length;
  }

  patch(at: number, b: Uint8Array): void {
    this.flush();
    let o = 0;
    while (o < b.length) o += writeSync(this.fd, b, o, b.length - o, at + o);
  }

  truncate(at: number): void {
    this.flush();
    ftruncateSync(this.fd, at);
    this.at = this.position = at;
  }

  close(): void {
    if (this.fd < 0) return;
    try { this.flush(); } finally { closeSync(this.fd); this.fd = -1; }
  }

  private flush(): void {
    if (this.fill) this.put(this.buf.subarray(0, this.fill));
    this.fill = 0;
  }

  private put(b: Uint8Array): void {
    let o = 0;
    while (o < b.length) o += writeSync(this.fd, b, o, b.length - o, this.at + o);
    this.at += b.length;
  }
}

// ---- gzip in blocks on worker threads ----

/** zlib and pako give the same bytes for these inputs (checked once per run) */
let nativeOk: boolean | undefined;

/** Does Node's zlib produce pako's bytes here? A probe of text-like and binary data, two blocks with a dictionary. */
export function zlibMatchesPako(): boolean {
  if (nativeOk !== undefined) return nativeOk;
  const words = ['layer', 'image', 'strata', 'gzip', 'deflate', '/usr/lib/', 'x86_64', 'libc.so.6', '\n', ' ', '0000644', 'ustar'];
  const probe = new Uint8Array(160 << 10);
  let seed = 0x9e3779b9;
  const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed; };
  for (let i = 0; i < probe.length;) {
    if (rnd() % 4 === 0) { probe[i++] = rnd() & 0xff; continue; }
    const w = words[rnd() % words.length];
    for (let j = 0; j < w.length && i < probe.length; j++) probe[i++] = w.charCodeAt(j);
  }
  const cut = 96 << 10;
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
  nativeOk = [1, GZIP_LEVEL].every((level) => {
    const first = probe.subarray(0, cut), second = probe.subarray(cut), dict = probe.subarray(cut - GZIP_WINDOW, cut);
    return same(compressBlock(first, null, false, level, true), deflateBlock(first, null, false, level))
      && same(compressBlock(second, dict, true, level, true), deflateBlock(second, dict, true, level));
  });
  return nativeOk;
}

function spawnGzipWorker(): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const url = new URL('./gzip-worker.ts', import.meta.url);
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(boot, { eval: true });
  }
  return new Worker(new URL('./gzip-worker.mjs', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
}

/**
 * The stream cut into GZIP_BLOCK blocks, compressed on worker threads, joined in order. A full
 * block is sent only once more bytes come (or at the end), so the last block is known as such:
 * the same blocks as blockRange() gives for the stream's total size.
 */
class BlockGzip {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly join = new GzipJoin();
  private readonly done = new Map<number, GzipDone>();
  private readonly failures: Error[] = [];
  private readonly native = zlibMatchesPako();
  private readonly spare: Uint8Array[] = [];
  private block: Uint8Array;
  private fill = 0;
  private sent = 0;
  private written = 0;
  private dict: Uint8Array | null = null;
  private wakeWriter: (() => void) | null = null;

  constructor(private readonly emit: (b: Uint8Array) => void, threads = Math.max(1, Math.min(4, availableParallelism()))) {
    emit(this.join.header);
    this.block = new Uint8Array(GZIP_BLOCK);
    for (let i = 0; i < threads; i++) {
      const w = spawnGzipWorker();
      w.on('message', (m: GzipDone) => { this.done.set(m.id, m); this.spare.push(m.block); this.idle.push(w); this.drain(); });
      w.on('error', (e) => { this.failures.push(e); this.wakeWriter?.(); });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  async put(chunk: Uint8Array): Promise<void> {
    for (let p = 0; p < chunk.length;) {
      if (this.fill === GZIP_BLOCK) await this.send(false);
      const n = Math.min(chunk.length - p, GZIP_BLOCK - this.fill);
      this.block.set(chunk.subarray(p, p + n), this.fill);
      this.fill += n;
      p += n;
    }
  }

  async finish(): Promise<void> {
    await this.send(true);
    while (this.written < this.sent) await this.wait();
    this.emit(this.join.trailer());
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private async send(last: boolean): Promise<void> {
    // at most two blocks per thread in flight: memory stays a few MiB
    while (this.sent - this.written >= 2 * this.workers.length) await this.wait();
    const w = await this.acquire();
    const block = this.block, length = this.fill;
    const dict = this.dict;
    this.dict = length >= GZIP_WINDOW ? block.slice(length - GZIP_WINDOW, length) : null;
    this.block = this.spare.pop() ?? new Uint8Array(GZIP_BLOCK);
    this.fill = 0;
    w.postMessage({ id: this.sent++, block, length, dict, last, level: GZIP_LEVEL, native: this.native } satisfies GzipJob, [block.buffer as ArrayBuffer]);
  }

  /** write finished blocks in order */
  private drain(): void {
    for (let d = this.done.get(this.written); d; d = this.done.get(this.written)) {
      this.done.delete(this.written++);
      this.emit(d.out);
      this.join.add(d.crc, d.length);
    }
    this.wakeWriter?.();
  }

  /** until a block comes back (or a worker fails) */
  private wait(): Promise<void> {
    if (this.failures.length) return Promise.reject(this.failures[0]);
    return new Promise((r) => { this.wakeWriter = () => { this.wakeWriter = null; r(); }; });
  }

  private async acquire(): Promise<Worker> {
    while (!this.idle.length) await this.wait();
    return this.idle.pop()!;
  }
}
