// A worker started on first use whose replies carry a job id, for the coordinator's analysis and
// compare workers: `start` makes the Worker (a literal `new Worker(new URL(…))`, which Vite bundles);
// if it fails, every job waiting on it gets an error and the next use starts a fresh one.
/// <reference lib="webworker" />
import type { ErrorInfo } from '../../core/errors.ts';

export class WorkerJobs<R extends { job: number }> {
  private worker: Worker | null = null;
  private readonly handlers = new Map<number, (m: R) => void>();
  private last = 0;

  /** `failed(job, error)`: the reply a job gets when the worker itself fails */
  constructor(private readonly start: () => Worker, private readonly what: string, private readonly failed: (job: number, error: ErrorInfo) => R) {}

  /** the next job id */
  newJob(): number { return ++this.last; }

  /** `h` gets the replies of `job` until `off(job)` */
  on(job: number, h: (m: R) => void): void { this.handlers.set(job, h); }

  off(job: number): void { this.handlers.delete(job); }

  /** the worker if it is running (nothing is started) */
  get running(): Worker | null { return this.worker; }

  /** the worker, started if it is not running */
  get(): Worker {
    if (this.worker) return this.worker;
    const w = this.start();
    w.onmessage = (ev: MessageEvent<R>) => this.handlers.get(ev.data.job)?.(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      const error: ErrorInfo = { code: 'IO', message: `The ${this.what} worker failed: ${ev.message || 'unknown error'}. Reload the page to try again.` };
      for (const [job, h] of this.handlers) h(this.failed(job, error));
      this.worker = null;
    };
    return (this.worker = w);
  }
}
