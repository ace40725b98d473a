// A small worker_threads pool: decode layers in parallel, results come back as plain data.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ErrorInfo } from '../core/errors.ts';
import { StrataError } from '../core/errors.ts';
import type { EntryColumns } from '../core/layers/entry-columns.ts';
import type { DecodeJob, ScanJob } from './decode-worker.ts';
import type { ContentHit } from '../core/analysis/sensitive.ts';

export interface DecodeResult { columns: EntryColumns; size: number; diffId?: string; digest?: string; spool: string | null }
/** a scan job's hits, by index into its items (files without hits are left out) */
export interface ScanResult { found: [number, ContentHit[]][] }

interface Pending {
  job: DecodeJob | ScanJob;
  resolve: (r: DecodeResult & ScanResult) => void;
  reject: (e: Error) => void;
  onProgress?: (a: number, b: number) => void;
}

/** The bundled CLI ships decode-worker.mjs beside it; from sources (tsx) the worker needs the loader. */
function spawnWorker(): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const url = new URL('./decode-worker.ts', import.meta.url);
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    return new Worker(boot, { eval: true });
  }
  // small young generation: decode garbage is short-lived 1 MiB buffers; keeps peak RSS down
  return new Worker(new URL('./decode-worker.mjs', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
}

export class DecodePool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: Pending[] = [];
  private running = new Map<number, Pending>();
  private nextId = 0;
  private retiring = false;

  constructor(size = Math.min(4, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const w = spawnWorker();
      w.on('message', (m: { id: number; progress?: [number, number]; result?: DecodeResult | ScanResult; error?: ErrorInfo }) => {
        const p = this.running.get(m.id);
        if (!p) return;
        if (m.progress) { p.onProgress?.(m.progress[0], m.progress[1]); return; }
        this.running.delete(m.id);
        if (this.retiring && !this.queue.length) void w.terminate();
        else this.idle.push(w);
        if (m.error) p.reject(new StrataError(m.error.code === 'INTERNAL' ? 'IO' : m.error.code, m.error.message));
        else p.resolve(m.result as DecodeResult & ScanResult);
        this.pump();
      });
      w.on('error', (e) => {
        for (const p of this.running.values()) p.reject(e);
        this.running.clear();
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get size(): number { return this.workers.length; }

  run(job: Omit<DecodeJob, 'id'>, onProgress?: (a: number, b: number) => void): Promise<DecodeResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, resolve, reject, onProgress });
      this.pump();
    });
  }

  /** scans small files for secrets on a worker (the analysis's content phase) */
  scan(job: Omit<ScanJob, 'id' | 'kind'>): Promise<ScanResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { ...job, kind: 'scan', id: this.nextId++ }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const p = this.queue.shift()!;
      this.running.set(p.job.id, p);
      w.postMessage(p.job);
    }
  }

  /**
   * No more jobs will come: each worker is ended as soon as it has nothing left to do, so its
   * isolate's memory is given back while the last layers decode and the tree is built.
   */
  retire(): void {
    this.retiring = true;
    if (this.queue.length) return;
    for (const w of this.idle.splice(0)) void w.terminate();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
