// Worker-side glue shared by the pool and analysis workers: a task boundary that lets waiting
// messages in, and the `hold`/`release` state background work waits on while the user waits
// for something else (the coordinator sends them: pool.ts, coordinator/analysis.ts).
/// <reference lib="webworker" />

const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();

/**
 * Resolves at a task boundary (not a microtask: messages waiting for this thread run first),
 * unclamped, unlike setTimeout. A Blob's stream or a long computation that awaits only promises
 * takes no message (a cancel, a hold) until it ends.
 */
export const breathe = (): Promise<void> => new Promise((r) => { waiting.push(r); channel.port2.postMessage(0); });

let held = false;
const heldWaiters = new Set<() => void>();

/** `hold` (true) or `release` (false) from the coordinator: held work waits until released */
export function setHeld(on: boolean): void {
  held = on;
  if (!on) { for (const w of [...heldWaiters]) w(); }
}

/** Resolves once not held (at once if not), or when `signal` aborts. */
export async function unheld(signal: AbortSignal): Promise<void> {
  while (held && !signal.aborted) {
    await new Promise<void>((r) => {
      const done = () => { heldWaiters.delete(done); signal.removeEventListener('abort', done); r(); };
      heldWaiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
