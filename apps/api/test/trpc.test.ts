import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE, type ErrorCode } from '@one-time/core';
import { DownloadService, RevokeService } from '@one-time/service';
import { appRouter, createCallerFactory } from '../src/index.ts';
import { uploadJson } from '../../../test/support/http.ts';
import { startStack, type Stack } from '../../../test/support/stack.ts';

let stack: Stack;
const createCaller = createCallerFactory(appRouter);
let caller: ReturnType<typeof createCaller>;
const silent = { info() {}, warn() {}, error() {} };

beforeAll(async () => {
  stack = await startStack({ env: { DOWNLOADS_MAX: '7', DENIED_TYPES: 'application/x-msdownload' } });
  const { files, blobs, purges } = stack.api.infra;
  caller = createCaller({
    config: stack.config,
    downloads: new DownloadService({ files, blobs, purges, timing: stack.config.timing, log: silent }),
    revokes: new RevokeService({ files, purges, log: silent }),
    startedAt: new Date(),
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('tRPC router through createCaller (no HTTP)', () => {
  it('file.info tells name, size, expiry and downloads left without consuming one', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'info.txt', content: 'about me' }], {
      downloads: '2',
    });
    for (let i = 0; i < 3; i += 1) {
      expect(await caller.file.info({ code: answer.code })).toEqual({
        available: true,
        name: 'info.txt',
        contentType: 'text/plain; charset=utf-8',
        size: 8,
        expiresAt: answer.expiresAt,
        downloadsLeft: 2,
        e2e: null, // uploaded as is: the server encrypted it, no sealed metadata to hand out
      });
    }
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('about me');
    expect((await caller.file.info({ code: answer.code })).downloadsLeft).toBe(1);
  });

  it('maps domain errors to tRPC codes and keeps the REST code alongside', async () => {
    await expect(caller.file.info({ code: 'AAAAAAAAAAAAAAAAAAAAAA' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(caller.file.info({ code: 'nope' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'r.txt', content: 'revoke' }]);
    await expect(caller.file.revoke({ code: answer.code, deleteToken: 'wrong' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await caller.file.revoke({ code: answer.code, deleteToken: answer.deleteToken })).toEqual({ revoked: true });
    await expect(caller.file.info({ code: answer.code })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('server.limits reports the configured rules; server.health answers', async () => {
    expect(await caller.server.limits()).toEqual({
      maxUploadBytes: 2 * 1024 ** 3,
      maxFilesPerUpload: 100,
      ttlDefaultSeconds: 86_400,
      ttlMaxSeconds: 604_800,
      downloadsDefault: 1,
      downloadsMax: 7,
      allowedTypes: [],
      deniedTypes: ['application/x-msdownload'],
    });
    expect(await caller.server.health()).toMatchObject({ status: 'ok' });
  });
});

describe('tRPC over HTTP at /trpc', () => {
  it('serves queries and errors with the same codes as REST', async () => {
    const limits = (await (await fetch(`${stack.url}/trpc/server.limits`)).json()) as {
      result: { data: { downloadsMax: number } };
    };
    expect(limits.result.data.downloadsMax).toBe(7);
    const input = encodeURIComponent(JSON.stringify({ code: 'AAAAAAAAAAAAAAAAAAAAAA' }));
    const missing = await fetch(`${stack.url}/trpc/file.info?input=${input}`);
    expect(missing.status).toBe(404);
    const body = (await missing.json()) as { error: { data: { code: string; appCode: string } } };
    expect(body.error.data).toMatchObject({ code: 'NOT_FOUND', appCode: 'NOT_FOUND' });
  });

  it('gives every error code the same HTTP status through tRPC as through REST', () => {
    for (const [code, entry] of Object.entries(ERROR_TABLE) as Array<[ErrorCode, (typeof ERROR_TABLE)[ErrorCode]]>) {
      // tRPC has no 507 or 416; only uploads (REST) fill the storage and only downloads (REST) serve ranges, so
      // their nearest codes never reach a tRPC caller.
      const status = code === 'STORAGE_FULL' ? 503 : code === 'RANGE_NOT_SATISFIABLE' ? 400 : entry.status;
      expect(getHTTPStatusCodeFromError(new TRPCError({ code: entry.trpc })), code).toBe(status);
    }
  });
});

describe('tRPC over HTTP', () => {
  it.each([
    ['an unknown code', `file.info?input=${encodeURIComponent(JSON.stringify({ code: 'AAAAAAAAAAAAAAAAAAAAAA' }))}`, 404],
    ['a malformed code', `file.info?input=${encodeURIComponent(JSON.stringify({ code: 'nope' }))}`, 400],
    ['input that fails the schema', `file.info?input=${encodeURIComponent(JSON.stringify({ code: 7 }))}`, 400],
    ['input that is not JSON', 'file.info?input=%7Bnot-json', 400],
    ['an unknown procedure', 'file.nothing', 404],
  ])('answers %s without a stack, a path or an internal name', async (_what, path, status) => {
    const response = await fetch(`${stack.url}/trpc/${path}`);
    expect(response.status).toBe(status);
    const text = await response.text();
    const body = JSON.parse(text) as { error: { data: Record<string, unknown> } };
    expect(body.error.data).not.toHaveProperty('stack');
    expect(text).not.toMatch(/\bat \S+ \(|node_modules|node:internal|\/work\/|\.ts:\d+|\.js:\d+/);
  });
});
