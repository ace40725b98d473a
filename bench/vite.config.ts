// Builds the benchmark-only page (bench/page) for npm run bench:browser; the app's own build
// (vite.config.ts at the root) never includes it. No service worker: every run loads fresh code.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('./page/', import.meta.url)),
  base: './',
  logLevel: 'warn',
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, emptyOutDir: true, minify: false },
});
