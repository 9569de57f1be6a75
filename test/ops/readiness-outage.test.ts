import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateAzurite, type PrivateAzurite } from '../support/azurite.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.ts';
import { eventually, startStack, type Stack } from '../support/stack.ts';

interface ReadyAnswer {
  status: string;
  down: string[];
  checks: Record<string, string>;
}

/** Takes Redis and storage away (private instances, never the shared ones) and watches /readyz on both processes. */
describe('/readyz during outages', () => {
  let redis: PrivateRedis;
  let azurite: PrivateAzurite;
  let stack: Stack;
  const ready = async (base: string): Promise<{ status: number; body: ReadyAnswer }> => {
    const response = await fetch(`${base}/readyz`);
    return { status: response.status, body: (await response.json()) as ReadyAnswer };
  };
  const both = () => Promise.all([ready(stack.url), ready(stack.worker!.opsUrl)]);

  beforeAll(async () => {
    redis = await startPrivateRedis();
    azurite = await startPrivateAzurite();
    stack = await startStack({
      stores: 'scale-out',
      env: { REDIS_URL: redis.url, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
    });
  });
  afterAll(async () => {
    // Both come back first, so the stack can clean up after itself.
    await stack?.stop();
    await redis?.stop();
    await azurite?.stop();
  });

  it('is ready while everything answers', async () => {
    for (const answer of await both())
      expect(answer).toEqual({
        status: 200,
        body: { status: 'ready', down: [], checks: { metadata: 'up', blobs: 'up', queue: 'up' } },
      });
  });

  it('answers 503 naming storage when blob storage is down, while /healthz stays 200', async () => {
    await azurite.stop();
    for (const answer of await both()) {
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({
        status: 'unavailable',
        down: ['blobs'],
        checks: { metadata: 'up', blobs: 'down', queue: 'up' },
      });
    }
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.worker!.opsUrl}/healthz`)).status).toBe(200);
  });

  it('names Redis too when it goes, and recovers when both are back', async () => {
    await redis.stop();
    for (const answer of await both()) {
      expect(answer.status).toBe(503);
      expect(answer.body.down).toEqual(['blobs', 'queue']);
    }
    redis = await startPrivateRedis({ port: redis.port });
    azurite = await startPrivateAzurite({ port: azurite.port });
    // A fresh Azurite has no container; a missing container counts as storage not ready, so make it again.
    expect((await ready(stack.url)).body.checks.blobs).toBe('down');
    await stack.api.infra.blobs.init();
    expect(
      await eventually(async () => (await both()).every((answer) => answer.status === 200 && answer.body.status === 'ready')),
    ).toBe(true);
  });
});
