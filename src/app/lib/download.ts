// Save a Blob as a file through a temporary object URL.
import type { Engine } from '../engine-api.ts';

export function saveBlob(blob: Blob, filename: string): void {
  // Chromium saves an untyped blob as text/plain and appends ".txt" to a name without an
  // extension ("tool" → "tool.txt"); octet-stream keeps the name. Re-wrapping copies no bytes.
  const typed = blob.type ? blob : new Blob([blob], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(typed);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // the download has started from the URL; give the browser a moment before revoking it
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A safe file name from a path or image name. */
export function fileNameFor(text: string, ext = ''): string {
  const base = text.replace(/^\/+|\/+$/g, '').replace(/[/\\:*?"<>|\s]+/g, '_') || 'rootfs';
  return base + ext;
}

/** the service worker's answer to a download request within this many ms, or the Blob path is taken */
const HANDSHAKE_MS = 1500;
/** a message to the service worker this often keeps it running while it streams a download */
const KEEPALIVE_MS = 10_000;

/**
 * Streams a download through this site's service worker (scripts/sw-plugin.ts) instead of
 * building a Blob. `write` gets the port the service worker reads from and `open`, to call before
 * the first byte (it opens the download's URL); it resolves with null when the last byte was
 * taken, or with a Blob when it streamed nothing after all (then this returns it to be saved).
 * False, before anything started, when no service worker of this build controls the page (first
 * visit, dev server, a browser without them): then save a Blob instead.
 */
export async function streamDownload(filename: string, opts: { gzip?: boolean }, write: (port: MessagePort, open: () => void) => Promise<Blob | null>): Promise<'streamed' | Blob | false> {
  const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker?.controller : null;
  if (!sw) return false;
  const id = crypto.randomUUID();
  const data = new MessageChannel();
  const reply = new MessageChannel();
  const accepted = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), HANDSHAKE_MS);
    reply.port1.onmessage = (ev) => { clearTimeout(timer); resolve(ev.data === 'ok'); };
  });
  // an older service worker (a build from before streamed downloads) does not answer
  try {
    sw.postMessage({ type: 'strata-download', id, name: filename, gzip: !!opts.gzip, port: data.port1, reply: reply.port2 }, [data.port1, reply.port2]);
  } catch {
    return false; // a worker on its way out
  }
  const ok = await accepted;
  reply.port1.close();
  if (!ok) { data.port2.close(); return false; }
  let frame: HTMLIFrameElement | null = null;
  const open = () => {
    // a frame's navigation goes through the service worker (an <a download> click does not, in
    // Chromium); the response is an attachment, so the frame stays blank and the browser saves it
    frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = new URL(`./strata-download/${id}/${encodeURIComponent(filename)}`, document.baseURI).href;
    document.body.appendChild(frame);
  };
  const keepalive = setInterval(() => sw.postMessage({ type: 'strata-keepalive' }), KEEPALIVE_MS);
  try {
    return (await write(data.port2, open)) ?? 'streamed';
  } finally {
    clearInterval(keepalive);
    // the download manager has the response by now; a frame removed too early could cancel it
    const f = frame as HTMLIFrameElement | null;
    if (f) setTimeout(() => f.remove(), 5000);
  }
}

/**
 * A tar export saved as `filename`: streamed through the service worker when that helps (the
 * bytes go to the file as they are made; `onStreaming` says it has started), else built as a
 * Blob and saved.
 */
export async function downloadTar(engine: Engine, imageId: string, opts: { layer?: number; path?: string; gzip?: boolean }, filename: string,
  onStreaming?: () => void): Promise<'streamed' | 'blob'> {
  const toPort = engine.exportToPort?.bind(engine);
  if (toPort) {
    const r = await streamDownload(filename, { gzip: opts.gzip }, (port, open) => toPort(imageId, opts, port, { onStreaming: () => { open(); onStreaming?.(); } }));
    if (r === 'streamed') return r;
    if (r) { saveBlob(r, filename); return 'blob'; }
  }
  saveBlob(await engine.exportTar(imageId, opts), filename);
  return 'blob';
}
