import { fileURLToPath } from 'node:url';
import { build, defineConfig, type Plugin } from 'vite';

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const api = process.env.ONE_TIME_API ?? 'http://127.0.0.1:3000';

/** In `vite` dev mode, `/d/<code>` is the landing page, as the API serves it in production. */
const landingPageRoute: Plugin = {
  name: 'one-time-landing-route',
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      // The service worker: served as a module in dev (the page registers it with `type: 'module'` there).
      if (req.url === '/sw.js') req.url = '/src/sw.ts';
      else if (req.url && /^\/d\/[^/?]+/.test(req.url)) req.url = '/d.html';
      next();
    });
  },
};

/**
 * The decrypting service worker, `dist/sw.js`: a fixed name (the API serves it at `/sw.js`, whose path sets the
 * worker's maximal scope) and one classic script with every import bundled in, so it runs in every browser that
 * has service workers (module workers are not everywhere) and shares no chunk with the pages. Built after the
 * pages, into the same folder.
 */
const serviceWorkerBuild: Plugin = {
  name: 'one-time-service-worker',
  apply: 'build',
  async closeBundle() {
    await build({
      configFile: false,
      logLevel: 'warn',
      build: {
        outDir: page('dist'),
        emptyOutDir: false,
        target: 'es2022',
        copyPublicDir: false,
        lib: { entry: page('src/sw.ts'), formats: ['iife'], name: 'oneTimeServiceWorker', fileName: () => 'sw.js' },
        rolldownOptions: { external: [/^node:/] },
      },
    });
  },
};

export default defineConfig({
  plugins: [landingPageRoute, serviceWorkerBuild],
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
    proxy: Object.fromEntries(['/upload', '/uploads', '/download', '/trpc', '/files'].map((path) => [path, api])),
  },
});
