// An import in progress in this JS realm: what it has stored, its writes in flight, and why it
// stopped taking writes. Every import write goes through `track`, so the first failure removes the
// partial image exactly once, after the writes already in flight have settled (no late orphans).
import { StrataError } from '../core/errors.ts';
import { formatBytes, storageError } from './db.ts';
import { removeImageData } from './remove-data.ts';

export interface Session {
  readonly id: string;
  /** the image's name, for messages */
  readonly name: string;
  contentBytes: number;
  treeBytes: number;
  hasTree: boolean;
  /** layers whose content has been started; each layer is stored once */
  readonly layers: Set<number>;
  /** layers whose compressed blob has been started (stored packed, expanded after the commit) */
  readonly packed: Set<number>;
  /** layers with a writer not yet closed */
  readonly open: Set<number>;
  readonly pending: Set<Promise<unknown>>;
  /** once set, every later write of this import throws it (failure, cancel, or commit) */
  stopped: StrataError | null;
  /** the removal started by `stop`, which later abort calls wait for too */
  removal: Promise<void> | null;
  /** why removing the partial data failed, if it did */
  removalError: StrataError | null;
  readonly release: () => void;
}

const sessions = new Map<string, Session>();

export function startSession(id: string, name: string, release: () => void): Session {
  const s: Session = {
    id, name, release, contentBytes: 0, treeBytes: 0, hasTree: false, layers: new Set(), packed: new Set(), open: new Set(),
    pending: new Set(), stopped: null, removal: null, removalError: null,
  };
  sessions.set(id, s);
  return s;
}

export const findSession = (id: string): Session | undefined => sessions.get(id);
export const sessionIds = (): string[] => [...sessions.keys()];

/** The running import of image `id`; imports are written from the realm (worker) that began them. */
export function session(id: string): Session {
  const s = sessions.get(id);
  if (!s) {
    throw new StrataError('NOT_FOUND',
      `No import of image ${id} is in progress here: it was never begun with beginImage in this worker, or it has already finished or been cancelled.`);
  }
  return s;
}

/** Ends the session without removing anything (commit). */
export function finishSession(s: Session, why: StrataError): void {
  s.stopped = why;
  sessions.delete(s.id);
  s.release();
}

/**
 * Stops the import with `reason` and removes its partial data; idempotent. Never rejects: a failed
 * removal is kept in `removalError` and added to the message every later write throws.
 */
export function stop(s: Session, reason: StrataError): Promise<void> {
  if (!s.removal) {
    s.stopped = reason;
    sessions.delete(s.id);
    s.removal = (async () => {
      try {
        // IndexedDB already runs our deletes after writes queued earlier on the same store; waiting
        // here also means that once abortImage resolves, none of this import's writes is running.
        await Promise.allSettled([...s.pending]);
        await removeImageData(s.id);
      } catch (err) {
        s.removalError = storageError(err, `Removing the partial data of "${s.name}"`);
        s.stopped = new StrataError(reason.code,
          `${reason.message} Removing the partial data also failed; it is removed the next time Strata starts.`, { cause: reason.cause });
      } finally {
        s.release();
      }
    })();
  }
  return s.removal;
}

/** Throws why the import stopped, once its partial data is gone (so "was removed" is true when read). */
export async function throwStopped(s: Session): Promise<never> {
  await s.removal;
  throw s.stopped!;
}

/**
 * Runs one write of the import. On failure the partial image is removed and the error thrown
 * names what was being written and how much; every later write throws that same error.
 */
export async function track<T>(s: Session, what: string, bytes: number, write: () => Promise<T>): Promise<T> {
  if (s.stopped) return throwStopped(s);
  const p = write();
  s.pending.add(p);
  try {
    return await p;
  } catch (err) {
    // Unless it was cancelled meanwhile, or another write failed first, this failure stops the import.
    if (!s.stopped) void stop(s, writeFailure(s, err, what, bytes));
    return await throwStopped(s);
  } finally {
    s.pending.delete(p);
  }
}

function writeFailure(s: Session, err: unknown, what: string, bytes: number): StrataError {
  const e = storageError(err, `Storing "${s.name}": writing ${what}`);
  if (e.code !== 'QUOTA_EXCEEDED') {
    return new StrataError(e.code, `${e.message} The partial image was removed.`, { cause: e.cause ?? err });
  }
  const before = formatBytes(s.contentBytes + s.treeBytes);
  return new StrataError('QUOTA_EXCEEDED',
    `Storing "${s.name}" ran out of browser storage while writing ${what} (${formatBytes(bytes)}; ${before} of this image were stored before). ` +
    'The partial image was removed; images stored earlier are intact. Delete stored images you no longer need, or free disk space, then import again.',
    { cause: e.cause ?? err });
}
