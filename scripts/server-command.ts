/**
 * How `npm start` and the benchmark run the two processes: the bundles `scripts/build-server.ts` writes, with
 * the API's young generation kept small (1 MiB semi-spaces). Streaming leaves one short-lived Buffer per chunk;
 * collected often, they keep the API's memory close to flat in file size (README, Speed and memory).
 *
 *   node scripts/server-command.ts api   → prints the arguments for `node`, one per line
 */
import { fileURLToPath } from 'node:url';
import { SERVER_BUNDLE_DIR } from './build-server.ts';

export type ServerApp = 'api' | 'worker';

const FLAGS: Record<ServerApp, readonly string[]> = {
  api: ['--max-semi-space-size=1'],
  worker: [],
};

export function serverCommand(app: ServerApp): string[] {
  return [...FLAGS[app], `${SERVER_BUNDLE_DIR}/${app}/main.js`];
}

if (import.meta.url === `file://${process.argv[1]}` || fileURLToPath(import.meta.url) === process.argv[1]) {
  const app = process.argv[2];
  if (app !== 'api' && app !== 'worker') throw new Error('usage: node scripts/server-command.ts api|worker');
  process.stdout.write(`${serverCommand(app).join('\n')}\n`);
}
