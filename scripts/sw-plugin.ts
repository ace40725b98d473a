// Vite plugin: after the build, emit sw.js — a service worker whose cache name is a hash of every
// output file, with the list of those files to precache. A new build means a new cache and a
// visible "update available" notice; old caches are deleted on activation.
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

export function serviceWorker(): Plugin {
  return {
    name: 'strata-service-worker',
    apply: 'build',
    generateBundle(_opts, bundle) {
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
self.addEventListener('message', (e) => { if (e.data === 'skipWaiting') self.skipWaiting(); });
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
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
