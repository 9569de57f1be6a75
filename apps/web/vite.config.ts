import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const api = process.env.ONE_TIME_API ?? 'http://127.0.0.1:3000';

/** In `vite` dev mode, `/d/<code>` is the landing page, as the API serves it in production. */
const landingPageRoute: Plugin = {
  name: 'one-time-landing-route',
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      if (req.url && /^\/d\/[^/?]+/.test(req.url)) req.url = '/d.html';
      next();
    });
  },
};

export default defineConfig({
  plugins: [landingPageRoute],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Nothing inline: the pages' CSP allows only scripts and styles from our own origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: { index: page('index.html'), d: page('d.html') },
      // The client loads Node modules lazily, only for file paths, which a page never passes.
      external: [/^node:/],
    },
  },
  server: {
    proxy: Object.fromEntries(['/upload', '/download', '/trpc', '/files'].map((path) => [path, api])),
  },
});
