import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { ErrorCode } from '@one-time/core';
import { OneTimeError, codeOf, createOneTimeClient, type E2EErrorCode, type OneTimeClient } from '../src/index.ts';
import { startStack, type Stack } from '../../../test/support/stack.ts';

let stack: Stack;
let client: OneTimeClient;
let folder: string;

beforeAll(async () => {
  stack = await startStack();
  client = createOneTimeClient({ baseUrl: stack.url });
  folder = await mkdtemp(join(tmpdir(), 'one-time-client-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(folder, { recursive: true, force: true });
});

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

describe('@one-time/client against a running API and worker', () => {
  it('uploads a file path with progress, tells its info, downloads it once', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 3);
    const path = join(folder, 'report.bin');
    await writeFile(path, data);
    const progress: Array<{ sent: number; total: number | undefined }> = [];
    const uploaded = await client.upload(path, { ttl: '1h', downloads: 2, onProgress: (p) => progress.push(p) });
    expect(uploaded.size).toBe(data.length);
    expect(progress.at(-1)).toEqual({ sent: data.length, total: data.length });
    expect(progress.length).toBeGreaterThan(1);

    expect(await client.info(uploaded.url)).toMatchObject({ name: 'report.bin', size: data.length, downloadsLeft: 2 });
    const first = await client.download(uploaded.code);
    expect(first).toMatchObject({ name: 'report.bin', size: data.length });
    expect(sha(await bytesOf(first.stream))).toBe(sha(data));
    expect((await client.info(uploaded.code)).downloadsLeft).toBe(1);
  });

  it('uploads a Buffer, a Blob and a Node stream under one code, as a zip', async () => {
    const uploaded = await client.upload([
      { source: Buffer.from('from a buffer'), name: 'a.txt' },
      new File(['from a file'], 'b.txt'),
      { source: Readable.from([Buffer.from('from a '), Buffer.from('stream')]), name: 'c.txt' },
    ]);
    const download = await client.download(uploaded.downloadUrl);
    expect(download.contentType).toBe('application/zip');
    const entries = unzipSync(new Uint8Array(await bytesOf(download.stream)));
    expect(Object.fromEntries(Object.entries(entries).map(([name, bytes]) => [name, Buffer.from(bytes).toString()]))).toEqual({
      'a.txt': 'from a buffer',
      'b.txt': 'from a file',
      'c.txt': 'from a stream',
    });
  });

  it('uploads as FormData where request bodies cannot stream (browsers)', async () => {
    const formClient = createOneTimeClient({ baseUrl: stack.url, streamingUploads: false });
    const progress: number[] = [];
    const uploaded = await formClient.upload(new File(['via form data'], 'form.txt'), {
      onProgress: (p) => progress.push(p.sent),
    });
    expect(progress).toEqual([13]);
    const download = await formClient.download(uploaded.code);
    expect(download.name).toBe('form.txt');
    expect(Buffer.from(await bytesOf(download.stream)).toString()).toBe('via form data');
  });

  it('revokes with the token; errors carry the server codes', async () => {
    const uploaded = await client.upload(Buffer.from('secret'), { downloads: 1 });
    await expect(client.revoke(uploaded.code, 'wrong')).rejects.toMatchObject({
      name: 'OneTimeError',
      code: 'FORBIDDEN',
      status: 403,
    });
    expect(await client.revoke(uploaded.code, uploaded.deleteToken)).toEqual({ revoked: true });
    await expect(client.download(uploaded.code)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await expect(client.info(uploaded.code)).rejects.toBeInstanceOf(OneTimeError);
    await expect(client.info('bad')).rejects.toMatchObject({ code: 'INVALID_CODE' });
    await expect(client.upload(Buffer.from('x'), { ttl: '99d' })).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('reports an unreachable server as NETWORK', async () => {
    const nowhere = createOneTimeClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(nowhere.download('AAAAAAAAAAAAAAAAAAAAAA')).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(nowhere.limits()).rejects.toMatchObject({ code: 'NETWORK' });
  });

  it('reads the limits and accepts links as well as codes', async () => {
    expect(await client.limits()).toMatchObject({ downloadsMax: 100, ttlMaxSeconds: 604_800 });
    expect(codeOf('http://x.example/download/abc')).toBe('abc');
    expect(codeOf(' abc ')).toBe('abc');
  });

  it('has types from the API router', () => {
    expectTypeOf(client.info).returns.resolves.toHaveProperty('downloadsLeft').toEqualTypeOf<number>();
    expectTypeOf(client.revoke).parameters.toEqualTypeOf<[string, string]>();
    expectTypeOf(client.limits).returns.resolves.toHaveProperty('allowedTypes').toEqualTypeOf<string[]>();
    expectTypeOf<OneTimeError['code']>().toEqualTypeOf<ErrorCode | 'NETWORK' | E2EErrorCode>();
  });
});
