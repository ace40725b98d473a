/**
 * The service worker's side of a streamed download (scripts/sw-plugin.ts), in this thread: up to
 * four pulls outstanding, each answered by one chunk; `cancelAfter` chunks, then a cancel. Null:
 * the export streamed nothing (discard). With `handBack`, as the service worker does, each chunk
 * is copied out and its buffer goes back with a later pull (two behind), to be filled again.
 */
export function portReader(cancelAfter?: number, handBack = false): { port: MessagePort; bytes: Promise<Blob | null> } {
  const ch = new MessageChannel();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let outstanding = 0;
  const given: ArrayBuffer[] = [];
  const pull = () => {
    while (outstanding < 4) {
      outstanding++;
      const back = handBack && given.length > 2 ? given.splice(0, given.length - 2) : [];
      ch.port1.postMessage({ type: 'pull', back }, back);
    }
  };
  const bytes = new Promise<Blob | null>((resolve, reject) => {
    ch.port1.onmessage = (ev: MessageEvent<{ type: string; chunk?: Uint8Array<ArrayBuffer>; message?: string }>) => {
      const m = ev.data;
      if (m.type === 'chunk') {
        chunks.push(handBack ? m.chunk!.slice() : m.chunk!);
        if (handBack) given.push(m.chunk!.buffer);
        outstanding--;
        if (cancelAfter !== undefined && chunks.length >= cancelAfter) { ch.port1.postMessage({ type: 'cancel' }); ch.port1.close(); resolve(new Blob(chunks)); return; }
        pull();
      } else if (m.type === 'end') { ch.port1.close(); resolve(new Blob(chunks)); }
      else if (m.type === 'discard') { ch.port1.close(); resolve(null); }
      else { ch.port1.close(); reject(new Error(m.message)); }
    };
  });
  pull();
  return { port: ch.port2, bytes };
}

