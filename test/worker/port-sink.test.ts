// The coordinator's end of a streamed download (src/worker/coordinator/download-port.ts): bytes
// put in any sizes come out whole and in order, in 4 MiB chunks; buffers the service worker hands
// back are filled again instead of fresh ones (a fresh 4 MiB costs ≈ 3 ms of page faults in
// Chromium here), and a handed-back buffer of another size (the last, short chunk) is not used.
import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { PortSink } from '../../src/worker/coordinator/download-port.ts';
import { portReader } from './port-reader.ts';

const MiB = 1 << 20;

/** `total` bytes of a seeded pattern put in pieces of varying size (1 byte to 3 MiB) */
async function stream(sink: PortSink, total: number): Promise<string> {
  const h = createHash('sha256');
  let seed = 7;
  for (let done = 0; done < total;) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const n = Math.min(total - done, 1 + (seed % (3 * MiB)));
    const piece = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) piece[i] = (done + i) & 0xff;
    piece[n - 1] = seed & 0xff;
    h.update(piece);
    const room = sink.put(piece);
    if (room) await room;
    done += n;
  }
  await sink.end();
  return h.digest('hex');
}

const digest = async (b: Blob | null) => createHash('sha256').update(new Uint8Array(await b!.arrayBuffer())).digest('hex');

test.each([[false], [true]])('bytes come out whole and in order; buffers handed back are filled again (handed back: %s)', async (handBack) => {
  const reader = portReader(undefined, handBack);
  const sink = new PortSink(reader.port);
  const total = 96 * MiB + 12345;
  const put = await stream(sink, total);
  const out = await reader.bytes;
  expect(out!.size).toBe(total);
  expect(await digest(out)).toBe(put);
  // 25 chunks: each a fresh buffer unless handed back (then the few in flight at once)
  if (handBack) expect(sink.allocated).toBeLessThanOrEqual(10);
  else expect(sink.allocated).toBe(25);
});

test('a handed-back buffer of another size is not filled again', async () => {
  const ch = new MessageChannel();
  const sink = new PortSink(ch.port2);
  const got: Uint8Array[] = [];
  ch.port1.onmessage = (ev: MessageEvent<{ type: string; chunk?: Uint8Array }>) => { if (ev.data.type === 'chunk') got.push(ev.data.chunk!.slice()); };
  const odd = new ArrayBuffer(MiB);
  ch.port1.postMessage({ type: 'pull', back: [odd, 'not a buffer'] }, [odd]);
  for (let i = 0; i < 3; i++) ch.port1.postMessage({ type: 'pull' });
  await new Promise((r) => setTimeout(r, 20));
  const total = 8 * MiB + 5;
  const put = await stream(sink, total);
  await new Promise((r) => setTimeout(r, 20));
  expect(sink.allocated).toBe(3);
  expect(got.map((c) => c.length)).toEqual([4 * MiB, 4 * MiB, 5]);
  expect(await digest(new Blob(got as Uint8Array<ArrayBuffer>[]))).toBe(put);
});
