import { get, type IncomingMessage } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { PURGE_QUEUE, expiryJobId, expirySlotEnd } from '@one-time/queue';
import { generatedFile, sha256, uploadJson } from '../support/http.ts';
import { eventually, sameDeployment, startStack, type Stack } from '../support/stack.ts';
import { restartableAzurite, startApp } from './restartable.ts';

const MiB = 1024 * 1024;
const cleanUps: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanUp of cleanUps.reverse()) await cleanUp().catch(() => undefined);
});

describe('the worker killed with SIGKILL in the middle of a purge', () => {
  it('retries the job after a restart, and nothing of the file is left', async () => {
    // Storage of the test's own, so it can be made to hang (SIGSTOP) while the worker deletes the blob.
    const azurite = await restartableAzurite();
    cleanUps.push(() => azurite.remove());
    const s = await startStack({
      stores: 'scale-out',
      worker: false,
      env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
    });
    cleanUps.push(async () => {
      azurite.resume();
      await s.stop();
    });
    // Its expiry slot's job fires in 6 s; by then the worker runs and storage hangs, so the purge stops half way.
    const answer = await uploadJson(s.url, [{ field: 'file', filename: 'purge-me.bin', content: generatedFile(MiB).stream() }], {
      ttl: '6s',
    });
    const fileId = fileIdForCode(answer.code);
    const env = sameDeployment(s.config, { SWEEP_INTERVAL: '1h' }); // only the job may purge it
    const first = await startApp('worker', env);
    cleanUps.push(() => first.kill());
    azurite.pause();
    expect(await eventually(async () => (await s.record(fileId))?.state === 'purging', 20_000)).toBe(true);
    await first.kill(); // mid-purge: the blob delete is hanging on the stopped storage
    azurite.resume();
    expect((await s.record(fileId)) ? 1 : 0).toBe(1);

    const second = await startApp('worker', env);
    cleanUps.push(() => second.kill());
    // BullMQ hands the job of a dead worker to a live one once its lock (30 s) runs out and the next stalled-job
    // check (every 30 s) sees it: up to a minute, more on a loaded machine.
    expect(await eventually(async () => ((await s.record(fileId)) ? 1 : 0) === 0, 110_000, 500)).toBe(true);
    expect(await s.blobNames()).toEqual([]);
    const connection = new Redis(s.config.redis.url);
    const queue = new Queue(PURGE_QUEUE, { connection, prefix: s.config.redis.queuePrefix });
    try {
      // Completed jobs are removed; a failed or stuck expiry job would still be there.
      expect(await queue.getJob(expiryJobId(expirySlotEnd(new Date(answer.expiresAt))))).toBeUndefined();
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 180_000);
});

describe('the API killed with SIGKILL in the middle of a download', () => {
  /** A download through a second API process, which dies after 1 MiB has arrived. */
  async function cutByDeath(stack: Stack, env: Record<string, string>) {
    const api = await startApp('api', sameDeployment(stack.config, env));
    cleanUps.push(() => api.kill());
    const content = generatedFile(16 * MiB);
    const answer = await uploadJson(api.url, [{ field: 'file', filename: 'cut.bin', content: content.stream() }]);
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      get(answer.downloadUrl, resolve).once('error', reject),
    );
    expect(response.statusCode).toBe(200);
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= MiB) break; // read a little, then the API dies
    }
    await api.kill();
    const fileId = fileIdForCode(answer.code);
    expect(await stack.record(fileId)).toMatchObject({ downloadsLeft: 0, activeStreams: 1 });
    return { answer, fileId, content, head: Buffer.concat(chunks), session: String(response.headers['one-time-session']) };
  }

  it('leaves a claimed file that the sweeper purges once its stream lease and resume window have run out', async () => {
    const env = { STREAM_LEASE: '2s', RESUME_WINDOW: '4s' };
    const stack = await startStack({ env: { ...env, SWEEP_INTERVAL: '1s' } });
    cleanUps.push(() => stack.stop());
    const { fileId } = await cutByDeath(stack, env);
    const killedAt = Date.now();
    expect(await eventually(async () => ((await stack.record(fileId)) ? 1 : 0) === 0, 20_000)).toBe(true);
    expect(Date.now() - killedAt).toBeGreaterThan(2_500); // not before the window (4 s from the claim) ended
    expect(await stack.blobNames()).toEqual([]);
  }, 60_000);

  it('lets the claimant finish through another API process with its session', async () => {
    const env = { STREAM_LEASE: '2s' };
    const stack = await startStack({ env: { ...env, SWEEP_INTERVAL: '1s' } });
    cleanUps.push(() => stack.stop());
    const { answer, fileId, content, head, session } = await cutByDeath(stack, env);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the dead stream's lease is stale by now
    const rest = await fetch(`${stack.url}/download/${answer.code}`, {
      headers: { 'one-time-session': session, range: `bytes=${head.length}-` },
    });
    expect(rest.status).toBe(206);
    expect(sha256(Buffer.concat([head, Buffer.from(await rest.arrayBuffer())]))).toBe(content.sha256);
    expect(await eventually(async () => ((await stack.record(fileId)) ? 1 : 0) === 0, 10_000)).toBe(true);
    expect(await stack.blobNames()).toEqual([]);
  }, 60_000);
});
