// The browser's own limit, measured next to the import: one DecompressionStream per gzip blob
// (or a plain read when `inflate` is false), sequentially, output counted and dropped — or, with
// `tar`, handed to the app's tar reader as a decode does (the pool's ceiling: rawPool in main.ts).
import type { RawJob, RawResult } from './raw-protocol.ts';
import { TarReader } from '../../src/core/tar/reader.ts';

async function drain(stream: ReadableStream<Uint8Array>, tar: TarReader | null): Promise<number> {
  const reader = stream.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) { tar?.finish(); return n; }
    n += value.length;
    if (tar && !tar.ended) tar.push(value);
  }
}

self.onmessage = async (ev: MessageEvent<RawJob>) => {
  const out: RawResult[] = [];
  for (const file of ev.data.files) {
    const t0 = performance.now();
    const s = file.stream();
    const tar = ev.data.tar ? new TarReader({ entry: () => {} }, file.name) : null;
    const bytesOut = await drain(ev.data.inflate
      ? s.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>)
      : s, tar);
    out.push({ name: file.name, bytesIn: file.size, bytesOut, ms: performance.now() - t0 });
  }
  self.postMessage(out);
};
