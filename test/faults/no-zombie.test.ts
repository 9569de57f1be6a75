import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { uploadJson, type UploadAnswer } from '../support/http.ts';
import { redisDump } from '../support/redis-dump.ts';
import { eventually, startStack, type Stack } from '../support/stack.ts';

const RUNS = 4;
const FILES_PER_RUN = 5;
const GETS_PER_FILE = 30;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { RATE_LIMIT_DOWNLOADS: '100000', RATE_LIMIT_UPLOADS: '100000', UPLOADS_IN_FLIGHT_PER_CLIENT: '100' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** What every way of asking says about a code: HEAD, GET and tRPC's file.info. */
async function answersFor(answer: UploadAnswer): Promise<{ head: number; get: number; info: number }> {
  const input = encodeURIComponent(JSON.stringify({ code: answer.code }));
  const [head, get, info] = await Promise.all([
    fetch(answer.downloadUrl, { method: 'HEAD' }),
    fetch(answer.downloadUrl),
    fetch(`${stack.url}/trpc/file.info?input=${input}`),
  ]);
  await Promise.all([get.arrayBuffer(), info.arrayBuffer()]);
  return { head: head.status, get: get.status, info: info.status };
}

/**
 * The outside repro of the "zombie" (a used file that kept answering 200 to HEAD and file.info, and 503 to
 * GET, for good): many parallel GETs on small one-download files, so late claims race the purge.
 */
describe(`${RUNS} runs of ${FILES_PER_RUN} one-download files × ${GETS_PER_FILE} parallel GETs`, () => {
  it('serves each file once, then every way of asking says 404 and both stores forget it within seconds', async () => {
    for (let run = 0; run < RUNS; run += 1) {
      const files = await Promise.all(
        Array.from({ length: FILES_PER_RUN }, async (_, i) => {
          const content = randomBytes(1024);
          return { content, answer: await uploadJson(stack.url, [{ field: 'file', filename: `z${run}-${i}.bin`, content }]) };
        }),
      );
      await Promise.all(
        files.map(async ({ answer, content }) => {
          const responses = await Promise.all(Array.from({ length: GETS_PER_FILE }, () => fetch(answer.downloadUrl)));
          const bodies = await Promise.all(
            responses.map(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) })),
          );
          const served = bodies.filter((b) => b.status === 200);
          expect(served).toHaveLength(1);
          expect(served[0]!.body.equals(content)).toBe(true);
          expect(bodies.filter((b) => b.status !== 200).map((b) => b.status)).toEqual(Array(GETS_PER_FILE - 1).fill(404));
        }),
      );
      for (const { answer } of files) expect(await answersFor(answer)).toEqual({ head: 404, get: 404, info: 404 });
      const ids = files.map(({ answer }) => fileIdForCode(answer.code));
      // Every trace: the record, its blobs, and (MongoDB) the claim tickets, purge marker and write lock that a
      // purge deletes after the record.
      const forgotten = await eventually(async () => {
        const [records, blobs, traces] = await Promise.all([
          stack.recordIds(),
          stack.blobNames(),
          Promise.all(ids.map((id) => stack.tracesOf(id))),
        ]);
        return (
          traces.every((n) => n === 0) &&
          ids.every((id) => !records.includes(id) && !blobs.some((name) => name.startsWith(`${id}/`)))
        );
      }, 5_000);
      expect(forgotten, `run ${run}: a used file is still stored`).toBe(true);
      // The queue forgets them too: no job (not even a delayed expiry) keeps a purged file's id.
      const queued = await redisDump(stack.config.redis.url, stack.config.redis.queuePrefix);
      for (const id of ids) expect(queued.includes(id), `run ${run}: ${id} still in Redis`).toBe(false);
    }
  });
});
