import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@one-time/core';
import { errorHandler } from '@one-time/ops';
import { rateLimiters } from '../apps/api/src/http/rate-limit.ts';
import { uploadMultipart } from './support/http.ts';
import { startStack, type Stack } from './support/stack.ts';

const UNKNOWN_CODE = 'AAAAAAAAAAAAAAAAAAAAAA';
const env = { RATE_LIMIT_UPLOADS: '3', RATE_LIMIT_DOWNLOADS: '5', RATE_LIMIT_REVOKES: '2', RATE_LIMIT_WINDOW: '1m' };

let stack: Stack;
let other: Stack;
let outage: Stack;
const outageLog: string[] = [];

beforeAll(async () => {
  stack = await startStack({ env, worker: false });
  other = await startStack({ env: { ...env, TRUST_PROXY: 'loopback' }, worker: false });
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      outageLog.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  outage = await startStack({
    env: { ...env, RATE_LIMIT_DOWNLOADS: '2', LOG_LEVEL: 'warn' },
    worker: false,
    logDestination: capture,
  });
});
afterAll(async () => {
  await stack?.stop();
  await other?.stop();
  await outage?.stop();
});

async function expectLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  expect(response.headers.get('ratelimit-policy')).toMatch(/^\d+;w=60$/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) as string } });
}

describe('rate limits per client IP, shared through Redis', () => {
  it('refuses the upload over the limit and stores nothing of it; preflights do not count', async () => {
    for (let i = 0; i < 5; i += 1) expect((await fetch(`${stack.url}/upload`, { method: 'OPTIONS' })).status).not.toBe(429);
    for (let i = 0; i < 3; i += 1) {
      const response = await uploadMultipart(stack.url, [{ field: 'file', filename: `${i}.txt`, content: `file ${i}` }]);
      expect(response.status).toBe(201);
    }
    const stored = { records: (await stack.recordIds()).length, blobs: (await stack.blobNames()).length };
    expect(stored.records).toBe(3);
    await expectLimited(await uploadMultipart(stack.url, [{ field: 'file', filename: 'x.txt', content: 'one too many' }]));
    await expectLimited(await fetch(`${stack.url}/upload/x.txt`, { method: 'PUT', body: 'also too many' }));
    expect({ records: (await stack.recordIds()).length, blobs: (await stack.blobNames()).length }).toEqual(stored);
  });

  it('counts downloads and HEADs, found or not, and revokes', async () => {
    const unknown = `${stack.url}/download/${UNKNOWN_CODE}`;
    for (let i = 0; i < 4; i += 1) expect((await fetch(unknown)).status).toBe(404);
    expect((await fetch(unknown, { method: 'HEAD' })).status).toBe(404);
    await expectLimited(await fetch(unknown));
    expect((await fetch(unknown, { method: 'HEAD' })).status).toBe(429);
    await expectLimited(await fetch(`${stack.url}/DOWNLOAD/${UNKNOWN_CODE}`));

    const revoke = () => fetch(`${stack.url}/files/${UNKNOWN_CODE}`, { method: 'DELETE', headers: { 'x-delete-token': 'x' } });
    expect((await revoke()).status).toBe(404);
    expect((await revoke()).status).toBe(404);
    await expectLimited(await revoke());
  });

  it('keeps separate counters for separately configured deployments (key prefix = QUEUE_PREFIX)', async () => {
    // Two deployments of their own, on one Redis: using up one's limit leaves the other's untouched.
    const [first, second] = await Promise.all([
      startStack({ env: { ...env, RATE_LIMIT_REVOKES: '1' }, worker: false }),
      startStack({ env: { ...env, RATE_LIMIT_REVOKES: '1' }, worker: false }),
    ]);
    try {
      const revoke = (deployment: Stack) =>
        fetch(`${deployment.url}/files/${UNKNOWN_CODE}`, { method: 'DELETE', headers: { 'x-delete-token': 'x' } });
      expect((await revoke(first)).status).toBe(404);
      await expectLimited(await revoke(first));
      expect((await revoke(second)).status).toBe(404);
      await expectLimited(await revoke(second));
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('counts per client IP as the trusted proxy reports it (TRUST_PROXY)', async () => {
    const from = (ip: string) => fetch(`${other.url}/download/${UNKNOWN_CODE}`, { headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 5; i += 1) expect((await from('203.0.113.7')).status).toBe(404);
    await expectLimited(await from('203.0.113.7'));
    expect((await from('198.51.100.9')).status).toBe(404);
  });
});

describe('when Redis is unreachable', () => {
  it('lets requests through with a warning, and counts again once Redis is back', async () => {
    const unknown = `${outage.url}/download/${UNKNOWN_CODE}`;
    outage.api.infra.redis.disconnect();
    for (let i = 0; i < 4; i += 1) expect((await fetch(unknown)).status).toBe(404);
    const warnings = outageLog.map((line) => JSON.parse(line) as { level: number; msg: string; limiter?: string });
    expect(warnings).toContainEqual(
      expect.objectContaining({ level: 40, limiter: 'download', msg: expect.stringContaining('store unavailable') as string }),
    );

    await outage.api.infra.redis.connect();
    expect((await fetch(unknown)).status).toBe(404);
    expect((await fetch(unknown)).status).toBe(404);
    await expectLimited(await fetch(unknown));
  });

  it('recovers even if Redis was away when the limits were set up', async () => {
    const config = loadConfig({ QUEUE_PREFIX: `t${randomBytes(6).toString('hex')}`, RATE_LIMIT_DOWNLOADS: '2' });
    const redis = new Redis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
    redis.disconnect();
    const warnings: string[] = [];
    const log = {
      info: () => undefined,
      warn: (_o: object, message?: string) => warnings.push(message ?? ''),
      // How the library reports the outage (warning or error) depends on timing; either must reach the log.
      error: (_o: object, message?: string) => warnings.push(message ?? ''),
    };
    const app = express();
    app.use('/download', rateLimiters(config, redis, log).downloads);
    app.use((_req, res) => void res.status(404).end());
    app.use(errorHandler(log));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/download/${UNKNOWN_CODE}`;
    try {
      for (let i = 0; i < 3; i += 1) expect((await fetch(url)).status).toBe(404);
      expect(warnings.length).toBeGreaterThan(0);
      // Redis comes back. A command sent meanwhile may already have started the client connecting again.
      if (redis.status === 'end' || redis.status === 'wait') await redis.connect();
      else if (redis.status !== 'ready') await once(redis, 'ready');
      // Counting resumes: within a few requests (the first may pass while the script is loaded again) the
      // limit of 2 is reached, and every request before that is answered normally.
      const statuses: number[] = [];
      let response = await fetch(url);
      while (response.status !== 429 && statuses.length < 5) {
        statuses.push(response.status);
        response = await fetch(url);
      }
      expect(statuses.every((status) => status === 404)).toBe(true);
      expect(statuses.length).toBeGreaterThanOrEqual(2);
      await expectLimited(response);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      redis.disconnect();
      // A connection of its own: the one under test may be half-way through reconnecting.
      const cleaner = new Redis(config.redis.url);
      const keys = await cleaner.keys(`${config.redis.queuePrefix}:*`);
      if (keys.length > 0) await cleaner.del(...keys);
      cleaner.disconnect();
    }
  });
});

describe('rate limit configuration', () => {
  it('has generous defaults and reads units', () => {
    expect(loadConfig({}).rateLimits).toEqual({ windowMs: 60_000, uploads: 60, downloads: 600, revokes: 60 });
    expect(loadConfig({ RATE_LIMIT_WINDOW: '15m', RATE_LIMIT_UPLOADS: '5' }).rateLimits).toMatchObject({
      windowMs: 900_000,
      uploads: 5,
    });
    const attempt = () => loadConfig({ RATE_LIMIT_DOWNLOADS: '0', RATE_LIMIT_WINDOW: 'soon' });
    expect(attempt).toThrow(/RATE_LIMIT_DOWNLOADS/);
    expect(attempt).toThrow(/RATE_LIMIT_WINDOW/);
  });

  it('reads TRUST_PROXY as Express does, and refuses what Express would choke on', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8' }).trustProxy).toBe('loopback, 10.0.0.0/8, fd00::/8');
    for (const bad of ['yes', '10.0.0.0/33', 'proxy.example.org']) {
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(ConfigError);
    }
  });
});
