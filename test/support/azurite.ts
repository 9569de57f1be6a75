import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AZURITE_DEV_CONNECTION_STRING } from '@one-time/core';

export interface PrivateAzurite {
  readonly port: number;
  /** The folder Azurite keeps everything in: what a test may scan. */
  readonly location: string;
  readonly connectionString: string;
  stop(): Promise<void>;
}

const bin = fileURLToPath(new URL('../../node_modules/.bin/azurite-blob', import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.end() !== undefined));
    socket.once('error', () => resolve(false));
  });
}

/** An Azurite of the test's own, in a fresh folder, so a test can read exactly what storage kept. */
export async function startPrivateAzurite(options: { port?: number } = {}): Promise<PrivateAzurite> {
  const location = await mkdtemp(join(tmpdir(), 'one-time-azurite-'));
  const port = options.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [
      bin,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      location,
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
      '--silent',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('private Azurite did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    location,
    connectionString: AZURITE_DEV_CONNECTION_STRING.replace('127.0.0.1:10000', `127.0.0.1:${port}`),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(location, { recursive: true, force: true });
    },
  };
}
