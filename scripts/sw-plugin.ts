// Vite plugin: after the build, emit sw.js — a service worker whose cache name is a hash of every
// output file, with the list of those files to precache. A new build means a new cache and a
// visible "update available" notice; old caches are deleted on activation.
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

export function serviceWorker(opts: { cache?: boolean } = {}): Plugin {
  return {
    name: 'strata-service-worker',
    apply: 'build',
    generateBundle(_opts, bundle) {
      // the benchmark page: streamed downloads only, replaced at once by a new build
      if (opts.cache === false) { this.emitFile({ type: 'asset', fileName: 'sw.js', source: downloadOnlySource() }); return; }
      const files = Object.keys(bundle).filter((f) => !f.endsWith('.map')).sort();
      const hash = createHash('sha256');
      for (const f of files) {
        const b = bundle[f];
        hash.update(f).update(b.type === 'chunk' ? b.code : typeof b.source === 'string' ? b.source : Buffer.from(b.source));
      }
      const version = hash.digest('hex').slice(0, 12);
      const urls = [...new Set(['./', './index.html', ...files.map((f) => './' + f), './sample.tar'])];
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: swSource(version, urls) });
    },
  };
}

function swSource(version: string, urls: string[]): string {
  return `// Strata service worker (generated at build time). Cache-first for this site's own files only.
const CACHE = 'strata-${version}';
const URLS = ${JSON.stringify(urls)};
self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(URLS)));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith('strata-') && k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});
${DOWNLOADS}
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (download(e)) return;
  // only our own origin; a ?src= archive from elsewhere goes straight to the network
  if (e.request.method !== 'GET' || url.origin !== self.location.origin) return;
  e.respondWith(
    caches.open(CACHE).then(async (c) => {
      const hit = await c.match(e.request, { ignoreSearch: e.request.mode === 'navigate' });
      if (hit) return hit;
      try {
        return await fetch(e.request);
      } catch (err) {
        if (e.request.mode === 'navigate') { const index = await c.match('./'); if (index) return index; }
        throw err;
      }
    }),
  );
});
`;
}

/** The streamed downloads' part of both service workers: `download(fetchEvent)` answers ours. */
const DOWNLOADS = `// Streamed downloads (src/app/lib/download.ts, src/worker/coordinator/download-port.ts): the page
// hands over a port the coordinator writes the file to, then opens ./strata-download/ID/NAME in a
// hidden frame; the response streams the port's chunks, pulling one per free slot.
const downloads = new Map();
self.addEventListener('message', (e) => {
  if (e.data === 'skipWaiting') { self.skipWaiting(); return; }
  const m = e.data;
  if (m && m.type === 'strata-download' && typeof m.id === 'string' && m.port) {
    downloads.set(m.id, m);
    // until the frame asks for it: the export may stream nothing after all (the page saves a Blob) or fail first
    m.port.onmessage = (ev) => { if (ev.data && (ev.data.type === 'discard' || ev.data.type === 'error')) { downloads.delete(m.id); m.port.close(); } };
    // a download the frame never asked for lets go of its port
    setTimeout(() => { if (downloads.get(m.id) === m) { downloads.delete(m.id); m.port.postMessage({ type: 'unclaimed' }); m.port.close(); } }, 60000);
    m.reply?.postMessage('ok');
  }
  // {type:'strata-keepalive'}: the event itself keeps this worker running while a download streams
});
function streamed(d) {
  const port = d.port;
  // Chunks come 4 ahead (one 'pull' each). The body stream has no queue of its own (high-water
  // mark 0): pull() runs when the browser's reader waits for the next chunk, and it reads the next
  // only once it has copied out the one before, so a chunk given two pulls ago is done with — its
  // buffer goes back with the next 'pull' and is filled again, instead of the coordinator
  // allocating (and the kernel faulting in) a fresh 4 MiB for every chunk.
  const queue = [];
  const given = [];
  let ended = false, wake = null, open = true;
  const send = (m, t) => { if (open) port.postMessage(m, t || []); };
  const close = () => { open = false; port.close(); };
  const body = new ReadableStream({
    start(c) {
      port.onmessage = (ev) => {
        const m = ev.data;
        if (m.type === 'chunk') queue.push(m.chunk);
        else if (m.type === 'end') ended = true;
        else if (m.type === 'error') { c.error(new Error(m.message)); close(); }
        const w = wake; wake = null; if (w) w();
      };
      for (let i = 0; i < 4; i++) send({ type: 'pull' });
    },
    pull(c) {
      const give = () => {
        if (!open) return;
        if (queue.length) {
          const chunk = queue.shift();
          c.enqueue(chunk);
          given.push(chunk);
          const back = given.length > 2 ? given.splice(0, given.length - 2).map((u) => u.buffer) : [];
          send({ type: 'pull', back }, back);
        } else if (ended) { c.close(); close(); }
      };
      if (queue.length || ended || !open) { give(); return; }
      return new Promise((r) => { wake = () => { give(); r(); }; });
    },
    cancel() { send({ type: 'cancel' }); close(); },
  }, { highWaterMark: 0 });
  const name = String(d.name);
  const ascii = name.replace(/[^\\x20-\\x7e]|["\\\\]/g, '_');
  return new Response(d.gzip ? body.pipeThrough(new CompressionStream('gzip')) : body, {
    headers: {
      'Content-Type': d.gzip ? 'application/gzip' : 'application/x-tar',
      'Content-Disposition': 'attachment; filename="' + ascii + '"; filename*=UTF-8\\'\\'' + encodeURIComponent(name),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
function download(e) {
  const url = new URL(e.request.url);
  const dl = new URL('./strata-download/', self.registration.scope).href;
  if (e.request.method === 'GET' && url.href.startsWith(dl)) {
    const id = decodeURIComponent(url.href.slice(dl.length).split('/')[0]);
    const d = downloads.get(id);
    downloads.delete(id);
    e.respondWith(d ? streamed(d) : new Response('This download has already started or has expired. Start it again from Strata.', { status: 410, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }));
    return true;
  }
  return false;
}`;

/** Streamed downloads only, no cache: a new build takes over at once (the benchmark page's). */
function downloadOnlySource(): string {
  return `// Strata benchmark service worker: streamed downloads only.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
${DOWNLOADS}
self.addEventListener('fetch', (e) => { download(e); });
`;
}
