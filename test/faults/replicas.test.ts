import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson, type UploadAnswer } from '../support/http.ts';
import { eventually, sameDeployment, startStack, storesUnderTest, type Stack } from '../support/stack.ts';
import { startApp } from './restartable.ts';

const FILES = 100;
const CLIENTS_PER_FILE = 20;
const FILES_AT_ONCE = 5; // 100 requests in flight
const unlimited = { RATE_LIMIT_DOWNLOADS: '100000', RATE_LIMIT_UPLOADS: '100000', UPLOADS_IN_FLIGHT_PER_CLIENT: '100' };

type App = Awaited<ReturnType<typeof startApp>>;
let stack: Stack;
const apps: App[] = [];
beforeAll(async () => {
  // The stack only provides the isolated stores and the views; the replicas are processes of their own.
  stack = await startStack({ worker: false, env: unlimited });
  const env = sameDeployment(stack.config, unlimited);
  apps.push(
    ...(await Promise.all([startApp('api', env), startApp('api', env), startApp('worker', env), startApp('worker', env)])),
  );
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.kill()));
  await stack?.stop();
});

/** The same download link, on replica `n`: a load balancer would spread them like this. */
function onReplica(answer: UploadAnswer, n: number): string {
  const api = apps[n % 2]!;
  return `${api.url}${new URL(answer.downloadUrl).pathname}`;
}

/**
 * One client: it retries a 503 (FerretDB, the scale-out stand-in, answers "database is locked" under write
 * bursts) as a real client would; a 503 consumed nothing. 200 and 404 are answers.
 */
async function tryDownload(url: string): Promise<{ status: number; body: Buffer }> {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(url);
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 503 || attempt >= 20) return { status: response.status, body };
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
}

describe(`two API and two worker processes on one deployment (${storesUnderTest()})`, () => {
  it(`${FILES} files × ${CLIENTS_PER_FILE} concurrent downloads across both APIs: exactly ${FILES} served, nothing left`, async () => {
    const files: Array<{ answer: UploadAnswer; content: Buffer }> = [];
    for (let i = 0; i < FILES; i += 10) {
      files.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const content = randomBytes(2048);
            const api = apps[(i + j) % 2]!;
            return { answer: await uploadJson(api.url, [{ field: 'file', filename: `r${i + j}.bin`, content }]), content };
          }),
        )),
      );
    }

    const statuses: number[] = [];
    let served = 0;
    for (let i = 0; i < files.length; i += FILES_AT_ONCE) {
      await Promise.all(
        files.slice(i, i + FILES_AT_ONCE).map(async ({ answer, content }) => {
          const results = await Promise.all(
            Array.from({ length: CLIENTS_PER_FILE }, async (_, n) => {
              return tryDownload(onReplica(answer, n));
            }),
          );
          const wins = results.filter((result) => result.status === 200);
          expect(wins).toHaveLength(1);
          expect(wins[0]!.body.equals(content)).toBe(true);
          served += wins.length;
          statuses.push(...results.map((result) => result.status));
        }),
      );
    }
    expect(served).toBe(FILES);
    expect(statuses.filter((status) => status !== 200 && status !== 404)).toEqual([]);

    const empty = await eventually(
      async () => (await stack.recordCount()) === 0 && (await stack.blobNames()).length === 0,
      20_000,
    );
    expect(empty, `left: ${await stack.recordCount()} rows, ${(await stack.blobNames()).length} blobs`).toBe(true);
  });
});
