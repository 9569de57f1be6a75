import { afterAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { startWorker } from '../../apps/worker/src/start-worker.ts';
import { uploadJson } from '../support/http.ts';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { restartableMongo, restartableRedis, type PrivateService } from './restartable.ts';
import { uploadWith } from './streamed-upload.ts';

const MiB = 1024 * 1024;
const cleanUps: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanUp of cleanUps.reverse()) await cleanUp().catch(() => undefined);
});

/** Removes a private service at the end, after the stack that uses it. */
function track(service: PrivateService): void {
  cleanUps.push(() => service.remove());
}

/** Brings the service back first if a test left it down, so the stack can clean up after itself. */
function trackStack(service: PrivateService, stack: Stack): void {
  cleanUps.push(async () => {
    await service.start(); // a no-op if it is up
    await stack.stop();
  });
}

describe('MongoDB outage during an upload', () => {
  it('answers 503 DATABASE_UNAVAILABLE, and after MongoDB is back the sweeper leaves no record and no blob', async () => {
    const mongo = await restartableMongo();
    track(mongo);
    const stack = await startStack({
      stores: 'scale-out',
      // The sweeper runs when this test says so, after it has seen what the outage left behind.
      env: { MONGO_URL: mongo.url, UPLOAD_DEADLINE: '3s' },
    });
    trackStack(mongo, stack);

    const started = Date.now();
    const answer = await uploadWith(stack.url, 16 * MiB, 2 * MiB, () => mongo.kill());
    expect(answer.status).toBe(503);
    expect(answer.body.error?.code).toBe('DATABASE_UNAVAILABLE');
    expect(answer.body.error?.message).toMatch(/database/i);

    await mongo.start();
    // The half-made record is there: written before the outage, it could not be deleted during it.
    const [leftId = ''] = await stack.recordIds();
    expect(await stack.record(leftId)).toMatchObject({ state: 'uploading' });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 3_500 - Date.now()))); // past its deadline
    const report = await stack.worker!.sweeper.sweep();
    expect(report).toMatchObject({ purged: 1, failed: 0 });
    expect(await stack.recordIds()).toEqual([]);
    expect(await stack.blobNames()).toEqual([]);
  }, 60_000);
});

describe('Redis restarted: every queued job lost', () => {
  it('still purges every expired and used-up file through the sweeper', async () => {
    const redis = await restartableRedis();
    track(redis);
    const stack = await startStack({ worker: false, env: { REDIS_URL: redis.url, SWEEP_INTERVAL: '1s' } });
    trackStack(redis, stack);

    const expiring = await Promise.all(
      [0, 1, 2].map((i) =>
        uploadJson(stack.url, [{ field: 'file', filename: `e${i}.txt`, content: `expiring ${i}` }], { ttl: '1s' }),
      ),
    );
    const used = await Promise.all(
      [0, 1, 2].map((i) => uploadJson(stack.url, [{ field: 'file', filename: `u${i}.txt`, content: `used ${i}` }])),
    );
    // Used up by a process that died before its purge: the stream ended, the API's own purge never ran.
    const { files } = stack.api.infra;
    for (const answer of used) {
      const claim = await files.claim(fileIdForCode(answer.code), new Date(), new Date(Date.now() + 60_000));
      expect(claim && (await files.endStream(claim, new Date()))).toBe(true);
    }
    const live = await uploadJson(stack.url, [{ field: 'file', filename: 'live.txt', content: 'stays' }], { ttl: '1h' });
    expect((await stack.recordIds()).length).toBe(7);

    // The jobs for all of them were in Redis, which restarts empty (it keeps nothing on disk).
    await redis.kill();
    await redis.start();
    const worker = await startWorker(stack.config);
    cleanUps.push(() => worker.close());

    const s = stack;
    const ids = [...expiring, ...used].map((answer) => fileIdForCode(answer.code));
    expect(await eventually(async () => (await s.recordIds()).every((id) => !ids.includes(id)), 20_000)).toBe(true);
    expect((await s.recordIds()).length).toBe(1);
    const blobs = await s.blobNames();
    expect(blobs.every((name) => name.startsWith(fileIdForCode(live.code)))).toBe(true);
    expect((await fetch(live.downloadUrl)).status).toBe(200);
  }, 60_000);
});
