// A download streamed to the page's service worker (issue 12): the export's bytes go over a
// MessagePort, in 4 MiB chunks handed over (transferred, not copied), as the service worker's
// response stream asks for them — the browser writes them to the file as they come, so a 1.6 GB
// tar never becomes a Blob. The other end is written by scripts/sw-plugin.ts.
//
// Protocol on the port: the service worker sends {type:'pull', back?} (room for one more chunk;
// `back`: buffers of chunks the browser has copied out, to be filled again — a fresh 4 MiB
// buffer costs ≈ 3 ms here in page faults, 0.2 s per 300 MB of tar, where a reused one 0.15 ms),
// {type:'cancel'} (the user cancelled the download) and {type:'unclaimed'} (the browser never
// asked for the download's URL within a minute: blocked); we send {type:'chunk', chunk},
// {type:'end'}, {type:'error', message} and {type:'discard'} (nothing is streamed after all: the
// page saves a Blob, and the download's URL is never opened).
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import type { TarSink } from './export-stream.ts';

const CHUNK = 4 << 20;
/** full chunks waiting for the service worker's pulls before `put` asks its caller to wait */
const AHEAD = 2;
/** no pull for this long while chunks wait: the download is gone */
const STALL = 120_000;
/** chunk buffers kept for reuse at most (the service worker has up to 8 in hand) */
const SPARE = 8;

export type PortMessage = { type: 'chunk'; chunk: Uint8Array<ArrayBuffer> } | { type: 'end' } | { type: 'error'; message: string } | { type: 'discard' };

export class PortSink implements TarSink {
  private buf = new Uint8Array(CHUNK);
  private fill = 0;
  private ready: Uint8Array<ArrayBuffer>[] = [];
  /** chunk buffers the service worker handed back, to be filled again */
  private spare: ArrayBuffer[] = [];
  private pulls = 0;
  private cancelled = false;
  /** the service worker dropped the download: the browser never asked for it */
  private unclaimed = false;
  private closed = false;
  private waiter: (() => void) | null = null;
  private started = false;
  /** bytes put so far */
  bytes = 0;
  /** chunk buffers allocated (not handed back and filled again): for tests */
  allocated = 1;

  /** `onStreaming`: called once, before the first byte is taken in (the download can start) */
  constructor(private readonly port: MessagePort, private readonly onStreaming: () => void = () => {}) {
    port.onmessage = (ev: MessageEvent<{ type?: string; back?: unknown }>) => {
      if (ev.data?.type === 'pull') {
        for (const b of Array.isArray(ev.data.back) ? ev.data.back : []) {
          if (b instanceof ArrayBuffer && b.byteLength === CHUNK && this.spare.length < SPARE) this.spare.push(b);
        }
        this.pulls++;
        this.send();
      }
      else if (ev.data?.type === 'cancel') this.cancelled = true;
      else if (ev.data?.type === 'unclaimed') this.unclaimed = true;
      this.wake();
    };
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private send(): void {
    while (this.pulls > 0 && this.ready.length) {
      const chunk = this.ready.shift()!;
      this.pulls--;
      this.port.postMessage({ type: 'chunk', chunk } satisfies PortMessage, [chunk.buffer]);
    }
  }

  private check(): void {
    if (this.unclaimed) throw new StrataError('IO', 'The browser did not start the download within a minute: was it blocked? Allow downloads for this site and try again.');
    if (this.cancelled) throw new StrataError('ABORTED', 'The download was cancelled.');
  }

  /**
   * Resolves when at most `n` full chunks wait; throws if the download was cancelled, or if the
   * browser took nothing for STALL ms (the service worker was stopped: nothing else would tell us).
   */
  private async room(n: number): Promise<void> {
    while (this.ready.length > n) {
      this.check();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const moved = await new Promise<boolean>((r) => {
        this.waiter = () => r(true);
        timer = setTimeout(() => r(false), STALL);
      });
      clearTimeout(timer);
      if (!moved) throw new StrataError('IO', `The browser took no part of the download for ${STALL / 1000} s: it was stopped or blocked. Try the download again.`);
    }
    this.check();
  }

  put(b: Uint8Array): void | Promise<void> {
    this.check();
    this.bytes += b.length;
    if (!this.started) { this.started = true; this.onStreaming(); }
    for (let at = 0; at < b.length;) {
      const n = Math.min(b.length - at, CHUNK - this.fill);
      this.buf.set(b.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === CHUNK) {
        this.ready.push(this.buf);
        const spare = this.spare.pop();
        if (!spare) this.allocated++;
        this.buf = spare ? new Uint8Array(spare) : new Uint8Array(CHUNK);
        this.fill = 0;
        this.send();
      }
    }
    if (this.ready.length > AHEAD) return this.room(AHEAD);
  }

  async blob(b: Blob): Promise<void> {
    const reader = b.stream().getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const room = this.put(value);
        if (room) await room;
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** the last bytes, then the end; resolves once the service worker has taken every chunk */
  async end(): Promise<void> {
    if (this.fill) { this.ready.push(this.buf.slice(0, this.fill)); this.fill = 0; this.send(); }
    await this.room(0);
    this.port.postMessage({ type: 'end' } satisfies PortMessage);
    this.closed = true;
    this.port.close();
  }

  /** nothing will be streamed (the caller saves a Blob instead): the service worker lets go of the download */
  discard(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.postMessage({ type: 'discard' } satisfies PortMessage);
    this.port.close();
  }

  /** the download fails with this message (the partial file is the browser's to drop) */
  fail(message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelled = true; // an export still writing stops at its next chunk
    this.ready = [];
    this.wake();
    try { this.port.postMessage({ type: 'error', message } satisfies PortMessage); } catch { /* closed */ }
    this.port.close();
  }
}
