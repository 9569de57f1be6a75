import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisHitCounter } from '../src/http/redis-hit-counter.ts';
import { startPrivateRedis, type PrivateRedis } from '../../../test/support/redis.ts';

const WINDOW_MS = 60_000;

/** On a Redis of the test's own: one test flushes its scripts, another takes it away. */
describe('RedisHitCounter', () => {
  let server: PrivateRedis;
  let redis: Redis;
  const fresh = () => `t${randomBytes(6).toString('hex')}:`;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => undefined); // the outage test takes the connection away on purpose
    await redis.connect();
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('counts every hit of a turn, several on one key included, in the order they came', async () => {
    const counter = new RedisHitCounter(redis, WINDOW_MS);
    const [a, b] = [`${fresh()}a`, `${fresh()}b`];
    const before = Date.now();
    const hits = await Promise.all([a, b, a, a, b, a, a].map((key) => counter.hit(key)));
    expect(hits.map((hit) => hit.totalHits)).toEqual([1, 1, 2, 3, 2, 4, 5]);
    for (const hit of hits) {
      expect(hit.resetTime!.getTime()).toBeGreaterThanOrEqual(before + WINDOW_MS - 1_000);
      expect(hit.resetTime!.getTime()).toBeLessThanOrEqual(Date.now() + WINDOW_MS);
    }
    expect(await redis.get(a)).toBe('5');
    expect(await redis.pttl(a)).toBeGreaterThan(WINDOW_MS - 5_000);
  });

  it('sends the hits of one turn as one command, and those of the next turn as the next', async () => {
    const watcher = new Redis(server.url);
    const seen: string[] = [];
    const monitor = await watcher.monitor();
    const prefix = fresh();
    monitor.on('monitor', (_time: string, args: string[]) => {
      // Commands a script runs are reported too; only what a client sent counts here.
      const command = String(args[0]).toLowerCase();
      if (['eval', 'evalsha'].includes(command) && args.some((arg) => arg.startsWith(prefix))) seen.push(command);
    });
    try {
      const counter = new RedisHitCounter(redis, WINDOW_MS);
      await Promise.all(['x', 'y', 'z', 'x'].map((key) => counter.hit(prefix + key)));
      expect((await counter.hit(`${prefix}x`)).totalHits).toBe(3);
      await sleep(200); // MONITOR reports asynchronously
      expect(seen).toEqual(['evalsha', 'evalsha']);
    } finally {
      monitor.disconnect();
      watcher.disconnect();
    }
  });

  it('starts a new window once the old one has passed, and on a key left without an expiry', async () => {
    const counter = new RedisHitCounter(redis, 300);
    const key = `${fresh()}k`;
    expect((await counter.hit(key)).totalHits).toBe(1);
    expect((await counter.hit(key)).totalHits).toBe(2);
    await sleep(400);
    expect((await counter.hit(key)).totalHits).toBe(1);

    const stuck = `${fresh()}stuck`;
    await redis.set(stuck, '41');
    expect((await counter.hit(stuck)).totalHits).toBe(1);
    expect(await redis.pttl(stuck)).toBeGreaterThan(0);
  });

  it('keeps counting after Redis forgot its scripts (a restart)', async () => {
    const counter = new RedisHitCounter(redis, WINDOW_MS);
    const key = `${fresh()}k`;
    expect((await counter.hit(key)).totalHits).toBe(1);
    await redis.script('FLUSH');
    expect((await Promise.all([counter.hit(key), counter.hit(key)])).map((hit) => hit.totalHits)).toEqual([2, 3]);
  });

  it('fails every hit of the batch while Redis is away, and counts again once it is back', async () => {
    const counter = new RedisHitCounter(redis, WINDOW_MS);
    const key = `${fresh()}k`;
    expect((await counter.hit(key)).totalHits).toBe(1);
    const ended = once(redis, 'end');
    redis.disconnect();
    await ended;
    const results = await Promise.allSettled([counter.hit(key), counter.hit(key)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await redis.connect();
    expect((await counter.hit(key)).totalHits).toBe(2);
  });
});
