import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console's single-page app: Preact + uPlot, built into dist/console, which the platform serves
 * (web/static.ts). Everything is bundled: the console works with no internet access (no CDN).
 * `npm run build:console` builds it; `npm run dev:console` serves it with hot reload against a
 * running platform (API and socket.io proxied to PW_API, default http://127.0.0.1:8080).
 */
export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
});
