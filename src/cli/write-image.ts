// `strata squash` and `strata cut`: a written image into one file, in one pass with bounded memory.
// Kept layers are copied from the archive as they are; the squashed layer is streamed from the
// layer spool files, hashed on the way and (gzip) compressed in 1 MiB blocks on worker threads;
// its member header is written last, over 512 bytes reserved for it. Temp file + rename: a failed
// run leaves nothing behind.
import { closeSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { outputTemp } from './interrupt.ts';
import { createHash } from 'node:crypto';
import { StrataError } from '../core/errors.ts';
import type { ResolvedImage } from '../core/archive/open.ts';
import type { EncodedTree, ImageMeta } from '../core/model.ts';
import { squashRecords } from '../core/export/squash.ts';
import type { TarRecord } from '../core/export/tar-export.ts';
import { checkImageWrite, writeImageArchive, type ImageWriteOptions, type LayerBlob, type WrittenImage } from '../core/export/image-write.ts';
import { GZIP_BLOCK, GZIP_LEVEL, GZIP_WINDOW, GzipJoin, deflateBlock } from '../core/compress/gzip-blocks.ts';
import { padding } from '../core/tar/writer.ts';
import { compressBlock, type BlockDone, type BlockJob } from './block-worker.ts';

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
  const { path: tmp, release } = outputTemp(out); // the exit closes the file if interrupted
  let file: OutFile;
  try {
    file = new OutFile(openSync(tmp, 'w'));
  } catch (e) {
    release();
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
  } finally {
    release();
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
  const records = squashRecords(res.tree, o.keep);
  let blob: LayerBlob;
  if (!o.compress) {
    // read and written here, hashed on a worker thread meanwhile
    const workers = new BlockWorkers(1);
    try {
      const start = file.position;
      await packBlocks(records, res.files, PLAIN_BLOCK, () => workers.take(), (block, length) => {
        file.write(block.subarray(0, length));
        workers.hash(block, length);
      });
      const diffId = await workers.digest();
      blob = { digest: diffId, diffId, size: file.position - start, compression: 'none' };
    } finally {
      await workers.close();
    }
  } else {
    // deflated on worker threads; the (smaller) hashes here
    const diff = createHash('sha256'), digest = createHash('sha256');
    let size = 0;
    const join = new GzipJoin();
    const emit = (b: Uint8Array) => { digest.update(b); file.write(b); size += b.length; };
    emit(join.header);
    const workers = new BlockWorkers(Math.max(1, Math.min(4, availableParallelism())), (out, crc, length) => { emit(out); join.add(crc, length); });
    try {
      await packBlocks(records, res.files, GZIP_BLOCK, () => workers.take(), (block, length, last) => {
        diff.update(block.subarray(0, length));
        return workers.deflate(block, length, last);
      });
      await workers.drain();
    } finally {
      await workers.close();
    }
    emit(join.trailer());
    blob = { digest: 'sha256:' + digest.digest('hex'), diffId: 'sha256:' + diff.digest('hex'), size, compression: 'gzip' };
  }
  file.write(new Uint8Array(padding(blob.size)));
  const h = header(blob);
  if (h) file.patch(at, h);
  else file.truncate(at);
  return blob;
}

/** uncompressed layers go to the file in blocks of the output buffer's size: written without a copy */
const PLAIN_BLOCK = 4 << 20;

/**
 * The bytes of tar records cut into blocks of `size` (the last one shorter), content read from
 * the layer files straight into the block. A full block is handed on only once more bytes come
 * (or at the end), so `last` is known: the same blocks as blockRange() gives for the total size.
 * `emit` owns the block it gets (it hands it back to the pool `take` draws from).
 */
async function packBlocks(records: Iterable<TarRecord>, files: { path: string; base: number }[], size: number,
  take: () => Promise<Uint8Array>, emit: (block: Uint8Array, length: number, last: boolean) => void | Promise<void>): Promise<void> {
  const fds = new Map<number, number>();
  let block = await take();
  let fill = 0;
  let held: Uint8Array | null = null;
  const next = async () => {
    if (held) await emit(held, size, false);
    held = block;
    block = await take();
    fill = 0;
  };
  try {
    for (const r of records) {
      if (r instanceof Uint8Array) {
        for (let p = 0; p < r.length;) {
          if (fill === size) await next();
          const n = Math.min(r.length - p, size - fill);
          block.set(r.subarray(p, p + n), fill);
          fill += n;
          p += n;
        }
        continue;
      }
      let fd = fds.get(r.layer);
      if (fd === undefined) { fd = openSync(files[r.layer].path, 'r'); fds.set(r.layer, fd); }
      for (let done = 0; done < r.size;) {
        if (fill === size) await next();
        const n = readSync(fd, block, fill, Math.min(size - fill, r.size - done), files[r.layer].base + r.offset + done);
        if (n <= 0) throw new StrataError('IO', `layer ${r.layer + 1}: its content ends early at byte ${r.offset + done}`);
        fill += n;
        done += n;
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  if (fill > 0 || !held) {
    if (held) await emit(held, size, false);
    await emit(block, fill, true);
  } else {
    await emit(held, size, true);
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

function spawnBlockWorker(): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const url = new URL('./block-worker.ts', import.meta.url);
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(boot, { eval: true });
  }
  return new Worker(new URL('./block-worker.mjs', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
}

/**
 * Worker threads for the squashed layer's blocks, and the pool of block buffers they hand back.
 * Deflate: a block goes to an idle thread with the 32 KiB before it as its dictionary, at most two
 * per thread in flight; results are passed to `onDeflated` in block order. Hash: blocks go, in
 * order, to the one thread's running sha256.
 */
class BlockWorkers {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly spare: Uint8Array[] = [];
  private readonly done = new Map<number, BlockDone & { kind: 'deflated' }>();
  private readonly failures: Error[] = [];
  private made = 0;
  private sent = 0;
  private finished = 0;
  private dict: Uint8Array | null = null;
  private wakeups: (() => void)[] = [];
  private digestWaiter: ((d: string) => void) | null = null;

  constructor(threads: number, private readonly onDeflated?: (out: Uint8Array, crc: number, length: number) => void) {
    for (let i = 0; i < threads; i++) {
      const w = spawnBlockWorker();
      w.on('message', (m: BlockDone) => this.receive(w, m));
      w.on('error', (e) => { this.failures.push(e); this.wake(); });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** a free block buffer (a few per thread exist; more wait for one to come back) */
  async take(): Promise<Uint8Array> {
    for (;;) {
      const b = this.spare.pop();
      if (b) return b;
      if (this.made < 2 * this.workers.length + 3) { this.made++; return new Uint8Array(this.onDeflated ? GZIP_BLOCK : PLAIN_BLOCK); }
      await this.wait();
    }
  }

  hash(block: Uint8Array, length: number): void {
    this.workers[0].postMessage({ kind: 'hash', id: this.sent++, block, length } satisfies BlockJob, [block.buffer as ArrayBuffer]);
  }

  async digest(): Promise<string> {
    if (this.failures.length) throw this.failures[0];
    const d = new Promise<string>((r) => { this.digestWaiter = r; });
    this.workers[0].postMessage({ kind: 'digest', id: -1 } satisfies BlockJob);
    return Promise.race([d, this.failed()]);
  }

  async deflate(block: Uint8Array, length: number, last: boolean): Promise<void> {
    while (!this.idle.length || this.sent - this.finished >= 2 * this.workers.length) await this.wait();
    const w = this.idle.pop()!;
    const dict = this.dict;
    // the next block's dictionary, copied before this block's buffer is transferred
    this.dict = last ? null : block.slice(length - GZIP_WINDOW, length);
    w.postMessage({ kind: 'deflate', id: this.sent++, block, length, dict, last, level: GZIP_LEVEL, native: zlibMatchesPako() } satisfies BlockJob, [block.buffer as ArrayBuffer]);
  }

  /** until every block sent is deflated and passed on */
  async drain(): Promise<void> {
    while (this.finished < this.sent) await this.wait();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private receive(w: Worker, m: BlockDone): void {
    if (m.kind === 'digest') { this.digestWaiter?.(m.digest); return; }
    this.spare.push(m.block);
    if (m.kind === 'deflated') {
      this.idle.push(w);
      this.done.set(m.id, m);
      for (let d = this.done.get(this.finished); d; d = this.done.get(this.finished)) {
        this.done.delete(this.finished++);
        this.onDeflated!(d.out, d.crc, d.length);
      }
    }
    this.wake();
  }

  private wait(): Promise<void> {
    if (this.failures.length) return Promise.reject(this.failures[0]);
    return new Promise((r) => this.wakeups.push(r));
  }

  private failed(): Promise<never> {
    return new Promise((_, reject) => { const check = () => (this.failures.length ? reject(this.failures[0]) : this.wakeups.push(check)); check(); });
  }

  private wake(): void {
    const w = this.wakeups;
    this.wakeups = [];
    for (const f of w) f();
  }
}
