/**
 * How `npm start` and the benchmark run the two processes: the bundles `scripts/build-server.ts` writes, with
 * the API's young generation kept small (1 MiB semi-spaces). Streaming leaves one short-lived Buffer per read;
 * collected often, they keep the API's memory close to flat in file size (README, Speed and memory).
 *
 *   node scripts/server-command.ts api   → prints the arguments for `node`, one per line
 *   node scripts/server-command.ts env   → prints the environment both run with (SERVER_ENV), one NAME=value per line
 */
import { fileURLToPath } from 'node:url';
import { SERVER_BUNDLE_DIR } from './build-server.ts';

export type ServerApp = 'api' | 'worker';

const FLAGS: Record<ServerApp, readonly string[]> = {
  api: ['--max-semi-space-size=1'],
  worker: [],
};

/**
 * What both processes run with on top of their configuration. glibc gives threads that allocate arenas of their
 * own (up to 8 per core), each keeping its own free memory; Node's thread pool and V8's helper threads would
 * hold several. Two keep the idle API about 2 MiB smaller (measured after a warm-up: 97.3 → 95.0 MiB).
 */
export const SERVER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

export function serverCommand(app: ServerApp): string[] {
  return [...FLAGS[app], `${SERVER_BUNDLE_DIR}/${app}/main.js`];
}

if (import.meta.url === `file://${process.argv[1]}` || fileURLToPath(import.meta.url) === process.argv[1]) {
  const app = process.argv[2];
  if (app === 'env') {
    process.stdout.write(
      Object.entries(SERVER_ENV)
        .map(([name, value]) => `${name}=${value}\n`)
        .join(''),
    );
  } else if (app === 'api' || app === 'worker') {
    process.stdout.write(`${serverCommand(app).join('\n')}\n`);
  } else {
    throw new Error('usage: node scripts/server-command.ts api|worker|env');
  }
}
