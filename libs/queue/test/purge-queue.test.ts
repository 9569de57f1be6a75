import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@one-time/core';
import { PurgeQueue, createRedis, purgeJobId } from '../src/index.ts';

/** On the shared Redis, under a fresh prefix per test; no worker runs, so enqueued jobs stay put. */
describe('PurgeQueue.forgetFile', () => {
  const { url } = loadConfig({}).redis;
  let prefix: string;
  let redis: ReturnType<typeof createRedis>;
  let queue: PurgeQueue;
  const newFileId = () => randomBytes(32).toString('base64url');

  beforeEach(async () => {
    prefix = `t${randomBytes(6).toString('hex')}`;
    redis = createRedis(url, 'producer');
    redis.on('error', () => undefined); // one test takes the connection away on purpose
    await redis.connect();
    queue = new PurgeQueue(redis, prefix);
  });
  afterEach(async () => {
    if (redis.status === 'end') await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await queue.queue.close();
    redis.disconnect();
  });

  it('drops the jobs of the files that have some, in a batch where others have none', async () => {
    const [withTwo, withOne, withNone] = [newFileId(), newFileId(), newFileId()];
    await queue.enqueuePurge(withTwo, 'downloaded', 3_600_000);
    await queue.enqueuePurge(withTwo, 'expired', 3_600_000);
    await queue.enqueuePurge(withOne, 'downloaded', 3_600_000);
    await Promise.all([queue.forgetFile(withTwo), queue.forgetFile(withNone), queue.forgetFile(withOne)]);
    for (const fileId of [withTwo, withOne]) {
      for (const reason of ['downloaded', 'expired'] as const) {
        expect(await queue.queue.getJob(purgeJobId(fileId, reason))).toBeUndefined();
      }
    }
    const left = (await redis.keys(`${prefix}:*`)).filter((key) => [withTwo, withOne].some((id) => key.includes(id)));
    expect(left).toEqual([]);
    // A batch of files without jobs is one lookup, and leaves everything else alone.
    const other = newFileId();
    await queue.enqueuePurge(other, 'downloaded', 3_600_000);
    await Promise.all([queue.forgetFile(newFileId()), queue.forgetFile(newFileId())]);
    expect(await queue.queue.getJob(purgeJobId(other, 'downloaded'))).toBeDefined();
  });

  it('fails every file of the batch while Redis is away (the purge logs it; the job stays until it runs)', async () => {
    const ended = once(redis, 'end');
    redis.disconnect();
    await ended;
    const results = await Promise.allSettled([queue.forgetFile(newFileId()), queue.forgetFile(newFileId())]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
