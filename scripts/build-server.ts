/**
 * Bundles the API and the worker into plain JavaScript under `.data/server/` (esbuild), for `npm start` and the
 * benchmark. The sources run as TypeScript everywhere else (tests, development); a bundle saves what Node's type
 * stripper and hundreds of module wrappers cost an idle process (about 30 MiB of the API's resident memory), and
 * `test/ops/server-bundle.test.ts` checks that what it builds starts and serves.
 *
 *   node scripts/build-server.ts            → .data/server/api/main.js, .data/server/worker/main.js
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const repo = fileURLToPath(new URL('..', import.meta.url));
export const SERVER_BUNDLE_DIR = `${repo}.data/server`;

/**
 * Packages that stay in node_modules: a native addon, the SDKs of the scale-out stores (loaded only when
 * configured, and full of optional requires), and bull-board, which serves its UI from its own folder.
 */
const EXTERNAL = ['sodium-native', 'mongodb', '@azure/storage-blob', '@bull-board/*'];

/** The web page's folder is found from the source file's location; a bundle lives elsewhere, so it is fixed here. */
const webDist: Plugin = {
  name: 'web-dist',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^@one-time\/web$/ }, () => ({ path: 'web-dist', namespace: 'one-time' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'one-time' }, () => ({
      contents: `export const webDistDir = ${JSON.stringify(`${repo}apps/web/dist`)};`,
      loader: 'js',
    }));
  },
};

export async function buildServer(outdir = SERVER_BUNDLE_DIR): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await Promise.all(
    (['api', 'worker'] as const).map((app) =>
      build({
        entryPoints: [`${repo}apps/${app}/src/main.ts`],
        outdir: `${outdir}/${app}`,
        bundle: true,
        splitting: true, // the store adapters stay separate chunks, loaded only when configured
        format: 'esm',
        platform: 'node',
        target: 'node24',
        minify: true,
        sourcemap: 'linked',
        external: EXTERNAL,
        plugins: [webDist],
        // CommonJS dependencies call require(); give the ES module bundle one.
        banner: {
          js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        },
        logLevel: 'error',
      }),
    ),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await buildServer();
