// The archive the page just inspected, kept for the import that follows: opening a `docker save |
// gzip` decompresses the whole wrapper (seconds for a gigabyte), and the import would do it again.
/// <reference lib="webworker" />
import { openArchive, type Archive } from '../../core/archive/open.ts';
import { env } from './context.ts';

let last: { key: string; archive: Promise<Archive>; at: number } | null = null;
/** an inspected archive is kept this long for its import */
const KEEP_MS = 10 * 60_000;

/** A File crosses to this worker as a new object each time: it is known by what it says of itself. */
function keyOf(file: Blob, name: string): string {
  const f = file as Partial<File>;
  return JSON.stringify([name, file.size, file.type, f.lastModified ?? null, f.name ?? null]);
}

/** Opens `file` (reusing the one just inspected); `keep` leaves it for the next open of the same file. */
export async function openCached(file: Blob, name: string, signal: AbortSignal, onProgress: ((read: number, total: number) => void) | undefined, keep: boolean): Promise<Archive> {
  const key = keyOf(file, name);
  const hit = last && last.key === key && Date.now() - last.at < KEEP_MS ? last.archive : null;
  last = null; // the wrapped archive's decompressed copy is not held past the import
  // a gzip-wrapped plain rootfs is imported from its gzip as one layer (the import confirms the guess)
  const archive = hit ?? openArchive(file, name, env, signal, { onProgress, guessRootfs: true });
  if (keep) {
    last = { key, archive, at: Date.now() };
    archive.catch(() => { if (last?.archive === archive) last = null; });
  }
  return archive;
}
