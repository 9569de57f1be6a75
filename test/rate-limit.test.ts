import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadMultipart } from './support/http.ts';
import { startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let other: Stack;

beforeAll(async () => {
  const env = { RATE_LIMIT_UPLOADS: '3', RATE_LIMIT_DOWNLOADS: '5', RATE_LIMIT_REVOKES: '2', RATE_LIMIT_WINDOW: '1m' };
  stack = await startStack({ env, worker: false });
  other = await startStack({ env, worker: false });
});
afterAll(async () => {
  await stack?.stop();
  await other?.stop();
});

async function expectLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('RATE_LIMITED');
  expect(body.error.message.length).toBeGreaterThan(0);
}

describe('rate limits per client IP, shared through Redis', () => {
  it('refuses the upload over the limit and stores nothing of it', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect((await uploadMultipart(stack.url, [{ field: 'file', filename: `${i}.txt`, content: `file ${i}` }])).status).toBe(
        201,
      );
    }
    const stored = { records: await stack.records.countDocuments({}), blobs: (await stack.blobNames()).length };
    await expectLimited(await uploadMultipart(stack.url, [{ field: 'file', filename: 'x.txt', content: 'one too many' }]));
    await expectLimited(await fetch(`${stack.url}/upload/x.txt`, { method: 'PUT', body: 'also too many' }));
    expect({ records: await stack.records.countDocuments({}), blobs: (await stack.blobNames()).length }).toEqual(stored);
  });

  it('counts downloads, found or not, and revokes', async () => {
    const unknown = `${stack.url}/download/AAAAAAAAAAAAAAAAAAAAAA`;
    for (let i = 0; i < 5; i += 1) expect((await fetch(unknown)).status).toBe(404);
    await expectLimited(await fetch(unknown));
    await expectLimited(await fetch(unknown, { method: 'HEAD' }).then(() => fetch(unknown)));

    const revoke = () =>
      fetch(`${stack.url}/files/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'DELETE', headers: { 'x-delete-token': 'x' } });
    expect((await revoke()).status).toBe(404);
    expect((await revoke()).status).toBe(404);
    await expectLimited(await revoke());
  });

  it('keeps separate counters for separately configured deployments', async () => {
    expect((await uploadMultipart(other.url, [{ field: 'file', filename: 'a.txt', content: 'a' }])).status).toBe(201);
    expect((await fetch(`${other.url}/download/AAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404);
  });
});
