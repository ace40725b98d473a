// A file's bytes for the page (its preview, a small download) right after an import: while its
// layer is still packed, the expansion stores it at the pace of IndexedDB's writes — the last file
// of libs-go's 714 MB layer was readable 9.4 s after the import, the last of a 129 MB layer that
// waited for a worker 10.3 s — where inflating the packed copy up to that file takes a second or
// two. So such a read inflates the packed copy itself (on a pool worker, shared with what runs
// there, as an export's inflate is) while the expansions hold.
/// <reference lib="webworker" />
import { StrataError } from '../../core/errors.ts';
import * as storage from '../../storage/index.ts';
import { expansionAt, readable } from './expansion.ts';
import { holdingExpansions, newJobId, runShared } from './pool.ts';

/** Reads up to this size may be served by an inflate (it keeps them in memory until filled). */
const DIRECT_MAX = 16 << 20;

interface Want { offset: number; end: number; bytes: Uint8Array; fill: number; done: (b: Uint8Array) => void; fail: (e: unknown) => void }

/**
 * One packed layer inflated from its start for the reads waiting on it, in whatever order they
 * come: each is filled as the inflate passes it. It stops once no read waits; a read behind it
 * (already passed) is left to the expansion.
 */
class Cursor {
  pos = 0;
  readonly wants = new Set<Want>();
  private readonly stop = new AbortController();

  constructor(info: storage.StoredImage['layers'][number], blob: Blob, private readonly gone: () => void) {
    runShared({ type: 'expand', job: newJobId(), info, blob, hash: false }, this.stop.signal, (chunk, ack) => {
      const from = this.pos, to = from + chunk.length;
      for (const w of this.wants) {
        const a = Math.max(from, w.offset), b = Math.min(to, w.end);
        if (a >= b) continue;
        w.bytes.set(chunk.subarray(a - from, b - from), a - w.offset);
        w.fill += b - a;
        if (w.fill === w.bytes.length) { this.wants.delete(w); w.done(w.bytes); }
      }
      this.pos = to;
      ack();
      if (!this.wants.size) this.close();
    }).then(
      () => this.close(new StrataError('STORAGE', 'The layer ended before the bytes asked for. The stored copy is damaged; delete the image and import it again.')),
      (e: unknown) => this.close(e),
    );
  }

  /** Stops the inflate; reads still waiting fail with `why` (the expansion may still serve them). */
  close(why?: unknown): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.gone();
    for (const w of this.wants) w.fail(why ?? new StrataError('ABORTED', 'The read was cancelled.'));
    this.wants.clear();
  }

  /** the bytes [offset, end) once the inflate has passed them */
  want(offset: number, end: number): { bytes: Promise<Uint8Array>; drop: () => void } {
    let w!: Want;
    const bytes = new Promise<Uint8Array>((done, fail) => { w = { offset, end, bytes: new Uint8Array(end - offset), fill: 0, done, fail }; });
    this.wants.add(w);
    return { bytes, drop: () => { if (this.wants.delete(w) && !this.wants.size) this.close(); } };
  }
}

const cursors = new Map<string, Cursor>();

/**
 * An expansion stores its layer at about a fifth of an inflate's pace (text-go: 4.5 s against
 * 0.9 s), so one this far on its way to a read's end is about as near as an inflate from the start.
 */
const NEAR = 0.75;

/** The inflate serving `layer` now, or a new one; null when its packed copy is gone or the image is. */
async function cursorFor(imageId: string, layer: number): Promise<Cursor | null> {
  const key = `${imageId}:${layer}`;
  const running = cursors.get(key);
  if (running) return running;
  const rec = await storage.readRecord(imageId);
  const info = rec?.layers.find((l) => l.index === layer);
  const blob = info ? await storage.packedLayerBlob(imageId, layer).catch(() => null) : null;
  if (!info || !blob) return null; // expanded meanwhile (its packed copy is gone), or deleted
  const again = cursors.get(key); // another read may have started one meanwhile
  if (again) return again;
  const c: Cursor = new Cursor(info, blob, () => { if (cursors.get(key) === c) cursors.delete(key); });
  cursors.set(key, c);
  return c;
}

/**
 * Bytes [offset, offset + length) of `layer`'s decompressed stream for the page, from an inflate
 * of its packed copy — or null: read them from the stored content. Null when the layer is stored
 * that far (or nearly), the read is larger than DIRECT_MAX, an inflate under way has passed them,
 * or the inflate stopped or failed (the expansion, released, serves the read then). The
 * expansions hold meanwhile: the inflate shares a worker's thread with one of them (libs-go's
 * 714 MB layer, 4.9 s instead of 3.3).
 */
export async function directRead(imageId: string, layer: number, offset: number, length: number): Promise<Uint8Array | null> {
  const end = offset + length;
  if (length === 0 || length > DIRECT_MAX) return null;
  const at = await expansionAt(imageId, layer);
  if (at === null || at >= end * NEAR) return null;
  const cursor = await cursorFor(imageId, layer);
  if (!cursor || cursor.pos > offset) return null; // passed already: the expansion is as near
  const direct = cursor.want(offset, end);
  try {
    // not a race with the stored path: that waits for the expansion, which holds meanwhile
    return await holdingExpansions(() => direct.bytes);
  } catch {
    return null; // its error would say less than the stored path's
  } finally {
    direct.drop();
  }
}

/** Bytes [offset, offset + length) of `layer` for the page: from an inflate of its own when that is sooner (directRead). */
export async function readForPage(imageId: string, layer: number, offset: number, length: number): Promise<Uint8Array> {
  const direct = await directRead(imageId, layer, offset, length);
  if (direct) return direct;
  await readable(imageId, layer, offset + length);
  return storage.readRange(imageId, layer, offset, length);
}
