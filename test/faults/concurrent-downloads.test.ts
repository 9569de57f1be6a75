import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson, type UploadAnswer } from '../support/http.ts';
import { startStack, type Stack } from '../support/stack.ts';

const FILES = 100;
const CLIENTS_PER_FILE = 20;
const FILES_AT_ONCE = 10; // 200 requests in flight

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { RATE_LIMIT_DOWNLOADS: '100000', RATE_LIMIT_UPLOADS: '100000' } });
});
afterAll(async () => {
  await stack?.stop();
});

/** One client's attempt: it retries a 503 (a busy database) as a real client would; 200 and 404 are answers. */
async function tryDownload(url: string): Promise<{ status: number; body?: Buffer }> {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(url);
    if (response.status === 503 && attempt < 20) {
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      continue;
    }
    return response.status === 200
      ? { status: 200, body: Buffer.from(await response.arrayBuffer()) }
      : { status: (await response.arrayBuffer(), response.status) };
  }
}

describe(`${FILES} files × ${CLIENTS_PER_FILE} concurrent downloads each`, () => {
  it('serves each file exactly once: 100 successes, no double serve, every byte right', async () => {
    const files: Array<{ answer: UploadAnswer; content: Buffer }> = [];
    for (let i = 0; i < FILES; i += 10) {
      files.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, async (_, j) => {
            const content = randomBytes(2048);
            return { answer: await uploadJson(stack.url, [{ field: 'file', filename: `f${i + j}.bin`, content }]), content };
          }),
        )),
      );
    }

    const servedPerFile: number[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < files.length; i += FILES_AT_ONCE) {
      await Promise.all(
        files.slice(i, i + FILES_AT_ONCE).map(async ({ answer, content }) => {
          const results = await Promise.all(Array.from({ length: CLIENTS_PER_FILE }, () => tryDownload(answer.downloadUrl)));
          for (const result of results) statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
          const served = results.filter((result) => result.status === 200);
          for (const result of served) expect(result.body?.equals(content)).toBe(true);
          servedPerFile.push(served.length);
        }),
      );
    }
    expect(servedPerFile).toHaveLength(FILES);
    expect(servedPerFile.every((count) => count === 1)).toBe(true);
    // Every other client was told the file is gone, or (FerretDB on SQLite answering "database is locked" after all
    // its retries) that the server is busy: refused either way, never served twice.
    expect(statuses.get(200)).toBe(FILES);
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 404]));
    expect([...statuses.keys()].every((status) => [200, 404, 503].includes(status))).toBe(true);
    expect(statuses.get(503) ?? 0).toBeLessThanOrEqual(FILES * CLIENTS_PER_FILE * 0.01);
  }, 120_000);
});
