import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_BUNDLE_DIR, buildServer } from '../../scripts/build-server.ts';
import { serverCommand } from '../../scripts/server-command.ts';
import { uploadJson } from '../support/http.ts';
import { testRunMark } from '../support/run-mark.ts';
import { eventually, sameDeployment, startStack, type Stack } from '../support/stack.ts';

/** `npm start` runs the bundles scripts/build-server.ts writes, not the sources the other tests run: they must work too. */
const BUNDLES = join(dirname(SERVER_BUNDLE_DIR), 'server-tests');
let stack: Stack;
let outdir: string;
const children: Array<ReturnType<typeof spawn>> = [];

beforeAll(async () => {
  // Inside the repository, so the packages left outside the bundle resolve from its node_modules.
  await mkdir(BUNDLES, { recursive: true });
  outdir = await mkdtemp(join(BUNDLES, 'test-'));
  await buildServer(outdir);
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  const exits = children
    .filter((child) => child.exitCode === null)
    .map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(exits);
  await stack?.stop();
  await rm(outdir, { recursive: true, force: true });
});

/** Starts a bundled app on the stack's stores, as npm start would (but from `outdir`), and waits for its banner. */
async function startBundled(app: 'api' | 'worker'): Promise<string> {
  const args = serverCommand(app).map((arg) => arg.replace(/^.*\/(api|worker)\/main\.js$/, `${outdir}/$1/main.js`));
  const child = spawn(process.execPath, args, {
    env: { ...testRunMark(), ...sameDeployment(stack.config), PATH: process.env.PATH ?? '', PORT: '0', OPS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const banner = app === 'api' ? /listening on (http:\/\/\S+) \(/ : /worker running \(ops port http:\/\/[^)]+\)/;
  expect(await eventually(() => Promise.resolve(banner.test(output)), 20_000, 50), output).toBe(true);
  return banner.exec(output)?.[1] ?? '';
}

describe('the bundled API and worker', () => {
  it('serve the page, an upload and its one download, and purge it', async () => {
    const url = await startBundled('api');
    await startBundled('worker');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const answer = await uploadJson(url, [{ field: 'file', filename: 'bundle.txt', content: 'from the bundle' }]);
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('from the bundle');
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
    expect(await eventually(async () => (await stack.recordIds()).length === 0 && (await stack.blobNames()).length === 0)).toBe(
      true,
    );
  });
});
