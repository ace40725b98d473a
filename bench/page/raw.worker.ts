// The browser's own limit, measured next to the import: one DecompressionStream per gzip blob
// (or a plain read when `inflate` is false), sequentially, output counted and dropped.
import type { RawJob, RawResult } from './raw-protocol.ts';

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}

self.onmessage = async (ev: MessageEvent<RawJob>) => {
  const out: RawResult[] = [];
  for (const file of ev.data.files) {
    const t0 = performance.now();
    const s = file.stream();
    const bytesOut = await drain(ev.data.inflate
      ? s.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>)
      : s);
    out.push({ name: file.name, bytesIn: file.size, bytesOut, ms: performance.now() - t0 });
  }
  self.postMessage(out);
};
