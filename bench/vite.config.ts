// Builds the benchmark-only page (bench/page) for npm run bench:browser; the app's own build
// (vite.config.ts at the root) never includes it. Its service worker caches nothing (every run
// loads fresh code): it only serves streamed downloads, as the app's does.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { serviceWorker } from '../scripts/sw-plugin.ts';

export default defineConfig({
  root: fileURLToPath(new URL('./page/', import.meta.url)),
  base: './',
  logLevel: 'warn',
  plugins: [serviceWorker({ cache: false })],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, emptyOutDir: true, minify: false },
});
