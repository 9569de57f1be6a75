import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { get, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { openStoreView } from '../support/store-view.ts';
import { isolatedStoreEnv, storesUnderTest } from '../support/stack.ts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@one-time/core';
import { freePort } from '../support/azurite.ts';
import { testRunMark } from '../support/run-mark.ts';
import { generatedFile, uploadJson } from '../support/http.ts';

const MiB = 1024 * 1024;

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** One isolated database, queue prefix and container for the child processes of this file. */
const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let baseEnv: Record<string, string | undefined> = {};
beforeAll(async () => {
  baseEnv = {
    ...testRunMark(),
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    QUEUE_PREFIX: id,
    LOG_LEVEL: 'info',
    ...(await isolatedStoreEnv(id, storesUnderTest())),
  };
});

/** Runs an app as its own process, as in production, and waits for its banner. */
async function startChild(entry: string, env: Record<string, string>, banner: RegExp): Promise<Child> {
  const child = spawn(process.execPath, [entry], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  while (!banner.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${entry} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { process: child, exited, output: () => output };
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function open(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).once('error', reject));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await (await openStoreView(loadConfig(baseEnv))).remove();
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${id}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('graceful shutdown of the API', () => {
  it('lets a download in flight finish after SIGTERM, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    const api = await startChild('apps/api/src/main.ts', { PORT: String(port), SHUTDOWN_TIMEOUT: '60s' }, /listening on/);
    try {
      const file = generatedFile(24 * MiB);
      const sent = await uploadJson(`http://127.0.0.1:${port}`, [{ field: 'file', filename: 'big.bin', content: file.stream() }]);

      const response = await open(`http://127.0.0.1:${port}/download/${sent.code}`);
      expect(response.statusCode).toBe(200);
      const hash = createHash('sha256');
      let received = 0;
      let signalledAt = 0;
      let refusedWhileInFlight = false;
      // A slow reader: about 4 MiB/s, so the transfer is still going well after the signal.
      for await (const chunk of response as AsyncIterable<Buffer>) {
        hash.update(chunk);
        received += chunk.length;
        if (signalledAt === 0 && received >= 2 * MiB) {
          api.process.kill('SIGTERM');
          signalledAt = Date.now();
          await sleep(300);
          refusedWhileInFlight = await refusesConnections(port);
        }
        await sleep(Math.ceil((chunk.length / (4 * MiB)) * 1000));
      }
      const finishedAt = Date.now();
      expect(signalledAt).toBeGreaterThan(0);
      expect(refusedWhileInFlight).toBe(true);
      expect(received).toBe(file.size);
      expect(hash.digest('hex')).toBe(file.sha256);
      expect(response.complete).toBe(true);
      // The transfer really outlived the signal by a good while.
      expect(finishedAt - signalledAt).toBeGreaterThan(1_000);
      expect(await api.exited).toBe(0);
      const log = api.output();
      expect(log).toContain('shutting down: no new connections');
      expect(log).toContain('"msg":"API stopped"');
      expect(log).not.toContain(sent.code);
    } finally {
      api.process.kill('SIGKILL');
    }
  });

  it('cuts a stalled transfer once SHUTDOWN_TIMEOUT has passed, and still exits 0', async () => {
    const port = await freePort();
    const api = await startChild('apps/api/src/main.ts', { PORT: String(port), SHUTDOWN_TIMEOUT: '1s' }, /listening on/);
    try {
      const file = generatedFile(24 * MiB);
      const sent = await uploadJson(`http://127.0.0.1:${port}`, [{ field: 'file', filename: 'big.bin', content: file.stream() }]);
      const response = await open(`http://127.0.0.1:${port}/download/${sent.code}`);
      response.pause(); // reads nothing: the server's writes back up
      await sleep(300);
      const signalledAt = Date.now();
      api.process.kill('SIGTERM');
      expect(await api.exited).toBe(0);
      const took = Date.now() - signalledAt;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(10_000);
      expect(api.output()).toContain('shutdown timeout reached: connections still open were cut');
      // What the client got is cut off, never a clean end.
      let received = 0;
      const ended = await new Promise<'error' | 'end'>((resolve) => {
        response.on('data', (chunk: Buffer) => (received += chunk.length));
        response.once('end', () => resolve('end'));
        response.once('error', () => resolve('error'));
        response.once('aborted', () => resolve('error'));
        response.resume();
      });
      expect(received).toBeLessThan(file.size);
      expect(ended === 'error' || !response.complete).toBe(true);
    } finally {
      api.process.kill('SIGKILL');
    }
  });
});

describe('graceful shutdown of the worker', () => {
  it('stops on SIGTERM and on SIGINT with exit code 0', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      // The whole line: output arrives in chunks, and the address ends it.
      const worker = await startChild('apps/worker/src/main.ts', { OPS_PORT: '0' }, /ops port http:\/\/[^)]+\)/);
      try {
        const opsUrl = /ops port (http:\/\/[^)]+)\)/.exec(worker.output())![1]!;
        expect((await fetch(`${opsUrl}/healthz`)).status).toBe(200);
        worker.process.kill(signal);
        expect(await worker.exited).toBe(0);
        expect(worker.output()).toContain('"msg":"worker stopped"');
      } finally {
        worker.process.kill('SIGKILL');
      }
    }
  });
});
