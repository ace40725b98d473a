// The core's platform needs, met with Node: spools are temp files read back as file-backed
// Blobs (file-blob.ts), sha256 is node:crypto (native, far faster than JS).
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { fileBlob } from './file-blob.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CoreEnv, Hasher, Spool } from '../core/env.ts';

/**
 * A full garbage collection of the main thread, between the load and what follows it (writing the
 * output, the analysis). Decoding left up to ≈ 80 MB of garbage on this heap that no collection
 * had taken yet (a heap snapshot there held 9 MB); it stayed while the output was written, and the
 * libs-go flatten peaked at 278–325 MB RSS (mean 304) over 4 runs; with this collection 247–288 MB
 * (mean 269), interleaved (issue 12's limit is 300 MB). `gc` is reached the documented way for a running process (the flag, then
 * a fresh context that sees it); where it is not there, nothing happens.
 */
export function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // no gc: the peak is what it was
  }
}

export function nodeSha256(): Hasher {
  const h = createHash('sha256');
  return { update: (b) => { h.update(b); }, digest: () => 'sha256:' + h.digest('hex') };
}

const BATCH = 1 << 20;

/** A spool file; `path` is exposed so a worker can hand it to the main thread. */
export class FileSpool implements Spool {
  private fd: number;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  write(chunk: Uint8Array): void {
    // big chunks (zlib hands out 1 MiB) go straight to the file; small ones are batched
    if (chunk.length >= BATCH / 4 && !this.pendingBytes) { this.put(chunk); return; }
    this.pending.push(chunk.slice());
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BATCH) this.flush();
  }
  private put(buf: Uint8Array): void {
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }
  private flush(): void {
    if (!this.pendingBytes) return;
    this.put(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes));
    this.pending = []; this.pendingBytes = 0;
  }
  /** flush and close; the file stays */
  close(): void {
    this.flush();
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }
  async finish(): Promise<Blob> {
    this.close();
    return fileBlob(this.path);
  }
  async abort(): Promise<void> {
    this.pending = [];
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

export class NodeEnv implements CoreEnv {
  readonly dir: string;
  private n = 0;
  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'strata-'));
  }
  spool(): FileSpool {
    return new FileSpool(this.spoolPath());
  }
  /** a fresh file name in the temp dir (removed with it) */
  spoolPath(): string {
    return join(this.dir, `spool-${process.pid}-${this.n++}`);
  }
  sha256(): Hasher { return nodeSha256(); }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
