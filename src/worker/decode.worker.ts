// A pool worker: decodes one layer (decompress + parse; the uncompressed stream becomes Blob parts
// in the browser's blob store, off the JS heap), or verifies one layer's digests. Glue only.
/// <reference lib="webworker" />
import { blobSpool, nobleSha256, type CoreEnv } from '../core/env.ts';
import { toErrorInfo } from '../core/errors.ts';
import { decodeLayer } from '../core/layers/decode.ts';
import { verifyLayer } from '../core/verify.ts';
import type { Job, JobReply } from './protocol.ts';

const env: CoreEnv = { spool: () => blobSpool(4 << 20), sha256: nobleSha256 };
const running = new Map<number, AbortController>();

function serve(port: MessagePort): void {
  const send = (m: JobReply, transfer: Transferable[] = []) => port.postMessage(m, transfer);
  port.onmessage = async (ev: MessageEvent<Job>) => {
    const m = ev.data;
    if (m.type === 'cancel') { running.get(m.job)?.abort(); return; }
    const ctl = new AbortController();
    running.set(m.job, ctl);
    try {
      if (m.type === 'decode') {
        let last = 0;
        const d = await decodeLayer(m.info, m.blob, env, {
          signal: ctl.signal,
          onProgress: (bytesIn, bytesOut) => {
            const now = performance.now();
            if (now - last > 100) { last = now; send({ type: 'progress', job: m.job, bytesIn, bytesOut }); }
          },
        });
        send({ type: 'decoded', job: m.job, entries: d.entries, size: d.size, content: d.content });
      } else {
        const verify = await verifyLayer(m.info, m.compressed, m.content, env, ctl.signal);
        send({ type: 'verified', job: m.job, verify });
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
