// A pool worker: decodes one layer (decompress + parse, for its entries and the few files the
// analysis reads early), expands one packed layer (decompress; the stream goes to the coordinator
// in transferred buffers, which stores it while this worker goes on), verifies one layer's
// digests, builds one window of an export's tar Blob, hashes a Blob or compresses one gzip block
// of a written image's layer. Glue only.
/// <reference lib="webworker" />
import { blobSpool, jsSha256, type CoreEnv } from '../core/env.ts';
import { StrataError, toErrorInfo } from '../core/errors.ts';
import { decodeLayer, layerLabel } from '../core/layers/decode.ts';
import { analysisCapture } from '../core/analysis/capture.ts';
import { decompressTo } from '../core/compress/decompress.ts';
import { verifyLayer } from '../core/verify.ts';
import type { Job, JobReply } from './protocol.ts';
import { EntryPacker } from '../core/layers/entry-columns.ts';
import { windowBlob } from './tar-blob.ts';
import { deflateSlice } from './gzip-block.ts';
import { breathe, setHeld, unheld } from './hold.ts';

const env: CoreEnv = { spool: () => blobSpool(4 << 20), sha256: jsSha256 };
const running = new Map<number, { ctl: AbortController; pipe?: ContentPipe }>();

/** Buffer size of a `content` message: the coordinator stores 4 MiB chunks; fewer messages too. */
const PIECE = 4 << 20;
/** Buffers per layer in flight: when the coordinator (storage) falls behind, decoding waits. */
const IN_FLIGHT = 4;
/** A background expansion's input is hashed and inflated this much at a time, holdable between. */
const HOLD_SLICE = 256 << 10;

/**
 * Copies the uncompressed stream into PIECE-sized buffers and transfers each full one to the
 * coordinator, which hands it back (`ack`) once stored. A fixed set of buffers, so memory is
 * bounded and nothing is allocated per chunk; the copy (64 KiB DecompressionStream chunks into
 * 4 MiB) is cheap next to the Blob/IndexedDB work it batches for.
 */
class ContentPipe {
  private free: ArrayBuffer[] = [];
  private made = 0;
  private wake: (() => void) | null = null;
  private cur: Uint8Array<ArrayBuffer> | null = null;
  private fill = 0;

  constructor(private readonly job: number, private readonly send: (m: JobReply, t: Transferable[]) => void, private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let p = 0; p < chunk.length;) {
      this.cur ??= new Uint8Array(await this.take());
      const n = Math.min(chunk.length - p, this.cur.length - this.fill);
      this.cur.set(chunk.subarray(p, p + n), this.fill);
      this.fill += n;
      p += n;
      if (this.fill === this.cur.length) this.flush();
    }
  }

  /** sends what is buffered (call before `decoded`, which must come after the last piece) */
  flush(): void {
    if (!this.cur || !this.fill) return;
    const chunk = this.cur.subarray(0, this.fill);
    this.cur = null;
    this.fill = 0;
    this.send({ type: 'content', job: this.job, chunk }, [chunk.buffer]);
  }

  ack(buffer: ArrayBuffer): void {
    this.free.push(buffer);
    this.wake?.();
  }

  private async take(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.signal.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
      const b = this.free.pop();
      if (b) return b;
      if (this.made < IN_FLIGHT) { this.made++; return new ArrayBuffer(PIECE); }
      await new Promise<void>((r) => { this.wake = r; });
      this.wake = null;
    }
  }
}

function serve(port: MessagePort): void {
  const send = (m: JobReply, transfer: Transferable[] = []) => port.postMessage(m, transfer);
  port.onmessage = async (ev: MessageEvent<Job>) => {
    const m = ev.data;
    if (m.type === 'cancel') { running.get(m.job)?.ctl.abort(); return; }
    if (m.type === 'ack') { running.get(m.job)?.pipe?.ack(m.buffer); return; }
    // a streamed export is under way (hold): background expansions wait at their next input chunk
    if (m.type === 'hold' || m.type === 'release') { setHeld(m.type === 'hold'); return; }
    const ctl = new AbortController();
    const run: { ctl: AbortController; pipe?: ContentPipe } = { ctl };
    running.set(m.job, run);
    try {
      if (m.type === 'decode') {
        let last = 0;
        const entries = new EntryPacker();
        const d = await decodeLayer(m.info, m.blob, env, {
          signal: ctl.signal,
          spool: false, // the content is stored from the archive's bytes, and expanded later
          onEntry: (e) => entries.add(e),
          capture: analysisCapture, // package databases and the like, for the analysis after the commit
          onProgress: (bytesIn, bytesOut) => {
            const now = performance.now();
            if (now - last > 100) { last = now; send({ type: 'progress', job: m.job, bytesIn, bytesOut }); }
          },
        });
        const { columns, transfer } = entries.finish();
        const captured = d.captured ?? [];
        send({ type: 'decoded', job: m.job, entries: columns, size: d.size, captured }, [...transfer, ...captured.map((f) => f.bytes.buffer as ArrayBuffer)]);
      } else if (m.type === 'expand') {
        const pipe = new ContentPipe(m.job, send, ctl.signal);
        run.pipe = pipe;
        // The digest of the compressed blob is taken on the way: the packed chunks are deleted
        // once the layer is expanded. A fresh hash per opening (the pako fallback reads again).
        let hash = env.sha256();
        const open = () => {
          if (m.hash === false) return m.blob.stream();
          hash = env.sha256();
          // A background expansion: held at its next input slice while an import or an export runs.
          // Its stream runs on microtasks while the Blob has data, so without a task boundary now
          // and then the worker took no message (a hold, an import's or export's job) for 0.25–0.6 s;
          // and a stored Blob's stream gives 2 MiB chunks, each hashed in 13–90 ms — but in 1.3–1.5 s
          // while another import's decode shared the thread (measured), with no hold seen until the
          // end: one slice at a time.
          return m.blob.stream().pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
            async transform(c, out) {
              for (let at = 0; at < c.length; at += HOLD_SLICE) {
                await breathe();
                await unheld(ctl.signal);
                const slice = c.subarray(at, Math.min(c.length, at + HOLD_SLICE));
                hash.update(slice);
                out.enqueue(slice);
              }
            },
          }));
        };
        const size = await decompressTo(open, m.info.compression, (c) => pipe.write(c), { signal: ctl.signal, what: layerLabel(m.info) });
        pipe.flush();
        send({ type: 'expanded', job: m.job, size, digest: m.hash === false ? '' : hash.digest() });
      } else if (m.type === 'hash') {
        const h = env.sha256();
        let done = 0, last = 0;
        const reader = m.blob.stream().getReader();
        for (;;) {
          if (ctl.signal.aborted) throw new StrataError('ABORTED', 'The operation was cancelled.');
          const { done: end, value } = await reader.read();
          if (end) break;
          h.update(value);
          done += value.length;
          const now = performance.now();
          if (now - last > 100) { last = now; send({ type: 'progress', job: m.job, bytesIn: done, bytesOut: done }); }
        }
        send({ type: 'hashed', job: m.job, digest: h.digest() });
      } else if (m.type === 'deflate') {
        const { bytes, crc } = await deflateSlice(m.blob, m, m.level);
        send({ type: 'deflated', job: m.job, bytes, crc }, [bytes.buffer]);
      } else if (m.type === 'verify') {
        // a digest check yields to an export by being cancelled: the cancel must get through
        const verify = await verifyLayer(m.info, m.compressed, m.content, env, ctl.signal, breathe);
        send({ type: 'verified', job: m.job, verify });
      } else {
        const contents = m.contents;
        send({ type: 'window', job: m.job, blob: await windowBlob(m.records, (l) => contents[l]) });
      }
    } catch (e) {
      send({ type: 'error', job: m.job, error: toErrorInfo(e) });
    } finally {
      running.delete(m.job);
    }
  };
}

// the coordinator hands each pool worker a MessagePort; the main thread only wires them up
self.onmessage = (ev: MessageEvent<{ port: MessagePort }>) => serve(ev.data.port);
