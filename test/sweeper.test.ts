import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { uploadJson } from './support/http.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  // The worker starts later, so this file controls exactly when jobs and sweeps happen.
  stack = await startStack({ worker: false, env: { ORPHAN_GRACE: '1s', RECONCILE_INTERVAL: '2s' } });
});
afterAll(async () => {
  await stack?.stop();
});

const idOf = (url: string) => fileIdForCode(url.split('/').pop() ?? '');

describe('sweeper: the safety net when Redis loses its jobs', () => {
  it('purges due files and orphan blobs after a Redis wipe, and leaves live files alone', async () => {
    const expiring = await uploadJson(stack.url, [{ field: 'file', filename: 'ttl.txt', content: 'short' }], { ttl: '1s' });
    const downloaded = await uploadJson(stack.url, [{ field: 'file', filename: 'once.txt', content: 'once' }]);
    const live = await uploadJson(stack.url, [{ field: 'file', filename: 'live.txt', content: 'keep me' }], { ttl: '1h' });
    expect(await (await fetch(downloaded.downloadUrl)).text()).toBe('once');

    // A blob that no record knows about, as if left behind by hand.
    await stack.api.infra.blobs.write(`${randomBytes(32).toString('base64url')}/0`, Readable.from([Buffer.from('orphan')]));

    await stack.wipeRedis(); // every delayed expiry job and purge job is gone
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // past the TTL and the orphan grace

    const { startWorker } = await import('../apps/worker/src/start-worker.ts');
    const worker = await startWorker(stack.config);
    try {
      const cleaned = await eventually(async () => {
        const ids = await stack.recordIds();
        const blobs = await stack.blobNames();
        return (
          ids.length === 1 &&
          ids[0] === idOf(live.downloadUrl) &&
          blobs.length === 1 &&
          blobs[0] === `${idOf(live.downloadUrl)}/0`
        );
      }, 15_000);
      expect(cleaned).toBe(true);
      expect((await fetch(expiring.downloadUrl)).status).toBe(404);
      expect(await (await fetch(live.downloadUrl)).text()).toBe('keep me');
    } finally {
      await worker.close();
    }
  });

  it('purges a claimed file whose download stream died with its process (stale lease)', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'crash.txt', content: 'crash' }]);
    const id = idOf(answer.downloadUrl);
    const past = new Date(Date.now() - 1_000);
    // What an API crash mid-download leaves: the download claimed, a stream open, its lease run out.
    const claimed = await stack.api.infra.files.claim(id, new Date(), past);
    expect(claimed?.file.activeStreams).toBe(1);
    const { startWorker } = await import('../apps/worker/src/start-worker.ts');
    const worker = await startWorker(stack.config);
    try {
      const report = await worker.sweeper.sweep();
      expect(report.purged).toBeGreaterThanOrEqual(1);
      expect((await stack.record(id)) ? 1 : 0).toBe(0);
      expect((await stack.blobNames()).filter((n) => n.startsWith(`${id}/`))).toEqual([]);
    } finally {
      await worker.close();
    }
  });
});
