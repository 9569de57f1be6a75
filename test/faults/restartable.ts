import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AZURITE_DEV_CONNECTION_STRING } from '@one-time/core';
import { freePort } from '../support/azurite.ts';
import { testRunMark } from '../support/run-mark.ts';

/**
 * A private service process a fault test may kill and bring back on the same port with the same data, as an
 * outage would. Never the shared services: other tests run against those at the same time.
 */
export interface Restartable {
  readonly port: number;
  /** Where it keeps its data: what a test may scan byte by byte. */
  readonly folder: string;
  /** Stops it: connections drop, new ones are refused. */
  kill(): Promise<void>;
  /** Back on the same port, with the data it had; a no-op (but for SIGCONT) while it runs. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open and hang, as with a stuck server. */
  pause(): void;
  resume(): void;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

export interface PrivateService extends Restartable {
  readonly url: string;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.end() !== undefined));
    socket.once('error', () => resolve(false));
  });
}

async function restartable(folderPrefix: string, launch: (port: number, folder: string) => ChildProcess): Promise<Restartable> {
  const folder = await mkdtemp(join(tmpdir(), folderPrefix));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const service: Restartable = {
    port,
    folder,
    async start() {
      // Never a second copy beside a running one: it would fail on the port and leave the first one behind.
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        return;
      }
      child = launch(port, folder);
      const deadline = Date.now() + 30_000;
      while (!(await accepts(port))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${folderPrefix} did not start on ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      // SIGTERM: the emulators keep their data only when they can write it out (a real outage keeps it too).
      running.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(r, 10_000, false))]);
      if (!stopped) {
        running.kill('SIGKILL');
        await exited;
      }
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async remove() {
      await service.kill();
      await rm(folder, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

const azuriteBin = fileURLToPath(new URL('../../node_modules/.bin/azurite-blob', import.meta.url));

/** Azurite, blob service only, keeping its data in a folder of its own across restarts. */
export async function restartableAzurite(): Promise<PrivateService & { readonly connectionString: string }> {
  const service = await restartable('one-time-fault-azurite-', (port, folder) =>
    spawn(
      process.execPath,
      [azuriteBin, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', folder].concat([
        '--skipApiVersionCheck',
        '--loose',
        '--disableTelemetry',
        '--silent',
      ]),
      { stdio: 'ignore' },
    ),
  );
  const connectionString = AZURITE_DEV_CONNECTION_STRING.replace('127.0.0.1:10000', `127.0.0.1:${service.port}`);
  return Object.assign(service, { url: `http://127.0.0.1:${service.port}`, connectionString });
}

/** FerretDB on SQLite (the binary `scripts/services.sh` builds), keeping its data across restarts. */
export async function restartableMongo(): Promise<PrivateService> {
  const bin = process.env.FERRETDB_BIN ?? join(homedir(), '.cache/one-time/bin/ferretdb');
  const debugPort = await freePort();
  const service = await restartable('one-time-fault-ferretdb-', (port, folder) =>
    spawn(
      bin,
      [
        `--listen-addr=127.0.0.1:${port}`,
        '--handler=sqlite',
        `--sqlite-url=file:${folder}/`,
        `--state-dir=${folder}`,
        '--telemetry=disable',
        `--debug-addr=127.0.0.1:${debugPort}`,
        '--log-level=error',
      ],
      { stdio: 'ignore' },
    ),
  );
  return Object.assign(service, { url: `mongodb://127.0.0.1:${service.port}` });
}

/** Redis without persistence: a restart loses every job, as the shared one would. */
export async function restartableRedis(): Promise<PrivateService> {
  const service = await restartable('one-time-fault-redis-', (port, folder) =>
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', folder], {
      stdio: 'ignore',
    }),
  );
  return Object.assign(service, { url: `redis://127.0.0.1:${service.port}` });
}

/** The API or the worker as its own process (what SIGKILL really kills), waiting for its start-up line. */
export async function startApp(
  app: 'api' | 'worker',
  env: Record<string, string>,
): Promise<{ readonly process: ChildProcess; readonly url: string; output(): string; kill(): Promise<void> }> {
  const entry = fileURLToPath(new URL(`../../apps/${app}/src/main.ts`, import.meta.url));
  const child = spawn(process.execPath, [entry], {
    env: {
      ...testRunMark(),
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const banner = app === 'api' ? /listening on (http:\/\/\S+) \(/ : /worker running \(ops port http:\/\/[^)]+\)/;
  const deadline = Date.now() + 30_000;
  let match: RegExpExecArray | null;
  while (!(match = banner.exec(output))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${app} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    process: child,
    url: match[1] ?? '',
    output: () => output,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
