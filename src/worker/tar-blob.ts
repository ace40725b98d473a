// The flattened tar as one Blob, from tar records (header bytes + references to layer content).
// In Chromium every Blob part that refers to another Blob costs about 0.1–0.2 ms (a slice is
// registered with the browser, and referenced again by the composed Blob), so a tar of 20k small
// files spent seconds on slices alone. Small content is therefore read — a few large reads of
// neighbouring files — and inlined as bytes; only large files stay slices. Same bytes either way.
import type { ContentRef, TarRecord } from '../core/export/tar-export.ts';

/** content up to this size is copied into the tar's bytes instead of referenced as a slice */
const INLINE_MAX = 256 << 10;
/** records are made into a Blob this many inlined bytes at a time, which bounds memory */
const WINDOW_BYTES = 32 << 20;
/** inlined files this close together in a layer's stream are read as one span… */
const SPAN_GAP = 256 << 10;
/** …of at most this size */
const SPAN_MAX = 8 << 20;
const READS_IN_FLIGHT = 4;
/** header and inlined bytes are gathered into buffers of about this size before becoming parts */
const COALESCE = 1 << 20;

export type LayerContent = (layer: number) => Blob;
/** makes one window's Blob: here, or on a pool worker */
export type WindowBuilder = (records: TarRecord[]) => Promise<Blob>;

const inlined = (r: TarRecord): r is ContentRef => !(r instanceof Uint8Array) && r.size <= INLINE_MAX;

/**
 * The tar as one Blob of window Blobs. Windows are built by `build` while the next ones' records
 * are made, at most `inFlight` at a time (pool workers build them in parallel).
 */
export async function windowedTarBlob(records: Iterable<TarRecord>, build: WindowBuilder, inFlight = 2, type = 'application/x-tar'): Promise<Blob> {
  const windows: Promise<Blob>[] = [];
  let settled = 0;
  let batch: TarRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    batch.push(r);
    if (inlined(r)) bytes += r.size;
    if (bytes >= WINDOW_BYTES) {
      const w = build(batch);
      w.catch(() => {}); // awaited below
      windows.push(w);
      while (windows.length - settled >= inFlight) await windows[settled++];
      batch = [];
      bytes = 0;
    }
  }
  windows.push(build(batch));
  return new Blob(await Promise.all(windows), { type });
}

/** One window of records as a Blob: small content read and inlined, large content sliced. */
export async function windowBlob(records: TarRecord[], content: LayerContent): Promise<Blob> {
  const small = await readInlined(records.filter(inlined), content);
  const parts: BlobPart[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (!pendingBytes) return;
    const buf = new Uint8Array(pendingBytes);
    let at = 0;
    for (const p of pending) { buf.set(p, at); at += p.length; }
    parts.push(buf);
    pending = [];
    pendingBytes = 0;
  };
  const add = (b: Uint8Array) => {
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= COALESCE) flush();
  };
  for (const r of records) {
    if (r instanceof Uint8Array) add(r);
    else if (r.size <= INLINE_MAX) add(small.get(r)!);
    else { flush(); parts.push(content(r.layer).slice(r.offset, r.offset + r.size)); }
  }
  flush();
  return new Blob(parts);
}

/** The bytes of each small ref, read in spans of neighbouring content, a few reads at a time. */
async function readInlined(refs: ContentRef[], content: LayerContent): Promise<Map<ContentRef, Uint8Array>> {
  const sorted = [...refs].sort((a, b) => a.layer - b.layer || a.offset - b.offset);
  const spans: { layer: number; start: number; end: number; refs: ContentRef[] }[] = [];
  for (const r of sorted) {
    const last = spans[spans.length - 1];
    const end = r.offset + r.size;
    if (last && last.layer === r.layer && r.offset - last.end <= SPAN_GAP && end - last.start <= SPAN_MAX) {
      last.end = Math.max(last.end, end);
      last.refs.push(r);
    } else {
      spans.push({ layer: r.layer, start: r.offset, end, refs: [r] });
    }
  }
  const out = new Map<ContentRef, Uint8Array>();
  let next = 0;
  const reader = async () => {
    while (next < spans.length) {
      const s = spans[next++];
      const bytes = new Uint8Array(await content(s.layer).slice(s.start, s.end).arrayBuffer());
      // a short read (content missing from storage) gives short files, as a slice of it would
      for (const r of s.refs) out.set(r, bytes.subarray(r.offset - s.start, r.offset - s.start + r.size));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_IN_FLIGHT, spans.length) }, reader));
  return out;
}
