// Ctrl-C (SIGINT), SIGTERM and SIGHUP: without a handler Node dies at once, and a run cut short
// left its temp directory (spooled layers: GBs for a large image) and the output's temp file
// behind. The CLI registers what it would remove itself, and a signal removes those, says so on
// stderr and exits with 128 + the signal's number. A signal is handled at the event loop's next
// poll (the flattened tar's write lets it poll every 64 MiB).
import { unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const cleanups = new Set<() => void>();
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
let installed = false;

/** Runs `fn` if the process is interrupted while it is registered; returns the unregister. */
export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => { cleanups.delete(fn); };
}

/** Installs the handlers (once): on a signal, every registered cleanup runs, newest first. */
export function cleanUpOnSignals(): void {
  if (installed) return;
  installed = true;
  for (const [name, no] of Object.entries(SIGNALS)) {
    process.once(name as NodeJS.Signals, () => {
      for (const fn of [...cleanups].reverse()) {
        try { fn(); } catch { /* the rest still run */ }
      }
      process.stderr.write(`strata: interrupted (${name}); its temporary files are removed\n`);
      process.exit(128 + no);
    });
  }
}

/**
 * The temp file an output is written to, next to `out` (renamed over it when whole), removed if
 * the process is interrupted before `release()`. After the rename there is nothing to remove.
 */
export function outputTemp(out: string): { path: string; release: () => void } {
  const path = join(dirname(out), `.${basename(out)}.strata-${process.pid}.tmp`);
  return { path, release: onInterrupt(() => unlinkSync(path)) };
}
