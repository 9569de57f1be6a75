import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { eventually, fileIsGone, startStack, type Stack } from './support/stack.ts';

/**
 * The chunked upload of sender-encrypted files (docs/chunked-uploads.md), as any client speaks it. The server
 * never reads the bytes, so opaque random bytes and an opaque metadata string stand in for ciphertext here;
 * the encryption itself is tested with the web page and the CLI.
 */
const MiB = 1024 * 1024;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface Created {
  readonly code: string;
  readonly url: string;
  readonly downloadUrl: string;
  readonly uploadUrl: string;
  readonly chunkSize: number;
  readonly chunks: number;
  readonly deleteToken: string;
  readonly uploadExpiresAt: string;
}

const META = randomBytes(90).toString('base64url');

async function create(on: Stack, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${on.url}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function created(on: Stack, size: number, extra: Record<string, unknown> = {}): Promise<Created> {
  const res = await create(on, { size, meta: META, ...extra });
  expect(res.status).toBe(201);
  return (await res.json()) as Created;
}

function put(upload: Created, index: number, body: Buffer, token = upload.deleteToken): Promise<Response> {
  return fetch(`${upload.uploadUrl}/${index}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(body),
  });
}

function chunkOf(content: Buffer, upload: Created, index: number): Buffer {
  return content.subarray(index * upload.chunkSize, (index + 1) * upload.chunkSize);
}

function call(upload: Created, path: string, method: string): Promise<Response> {
  return fetch(`${upload.uploadUrl}${path}`, { method, headers: { authorization: `Bearer ${upload.deleteToken}` } });
}

async function info(code: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}/trpc/file.info?input=${encodeURIComponent(JSON.stringify({ code }))}`);
  const body = (await res.json()) as { result?: { data: Record<string, unknown> } };
  return { status: res.status, body: body.result?.data ?? {} };
}

/** Bytes `from`…`to` of a download, with the session of a first (cut) GET. */
function ranged(url: string, session: string, range: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'one-time-session': session, range } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

/** A first download cut after `bytes`: the claimant's session. */
function cutFirstDownload(url: string, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= bytes) {
          req.destroy();
          resolve(String(res.headers['one-time-session']));
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}

describe('a chunked upload', () => {
  it('stores chunks in any order, says what arrived, completes, and downloads once as one file', async () => {
    const content = randomBytes(2 * 8 * MiB + 5);
    const upload = await created(stack, content.length, { downloads: 1 });
    expect(upload).toMatchObject({ chunkSize: 8 * MiB, chunks: 3 });
    expect(upload.url).toBe(`${stack.url}/d/${upload.code}`);
    expect(upload.uploadUrl).toBe(`${stack.url}/uploads/${upload.code}`);
    expect((await info(upload.code)).status).toBe(404); // not a file until complete

    expect((await put(upload, 2, chunkOf(content, upload, 2))).status).toBe(200);
    const first = await put(upload, 0, chunkOf(content, upload, 0));
    expect(await first.json()).toEqual({ index: 0, size: 8 * MiB });
    const status = await call(upload, '', 'GET');
    expect(await status.json()).toEqual({
      size: content.length,
      chunkSize: 8 * MiB,
      chunks: 3,
      stored: [0, 2],
      received: 8 * MiB + 5,
    });
    expect((await call(upload, '/complete', 'POST')).status).toBe(409);
    expect((await put(upload, 1, chunkOf(content, upload, 1))).status).toBe(200);

    const done = await call(upload, '/complete', 'POST');
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({
      code: upload.code,
      size: content.length,
      downloadsLeft: 1,
      files: [{ name: 'encrypted', size: content.length, contentType: 'application/octet-stream' }],
    });

    // file.info hands out the sealed metadata without consuming anything.
    const described = await info(upload.code);
    expect(described.body).toMatchObject({ name: 'encrypted', size: content.length, downloadsLeft: 1, e2e: { meta: META } });
    expect((await fetch(upload.downloadUrl, { method: 'HEAD' })).status).toBe(200);

    const res = await fetch(upload.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="encrypted"/);
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
    expect((await fetch(upload.downloadUrl)).status).toBe(404);
    expect(await eventually(() => fileIsGone(stack, fileIdForCode(upload.code)))).toBe(true);
  });

  it('serves ranges across chunk boundaries to a resumed download', async () => {
    const content = randomBytes(5 * 8 * MiB - 3); // larger than the loopback buffers, so the cut is real
    const upload = await created(stack, content.length);
    for (let index = 0; index < upload.chunks; index += 1) {
      expect((await put(upload, index, chunkOf(content, upload, index))).status).toBe(200);
    }
    expect((await call(upload, '/complete', 'POST')).status).toBe(201);
    const session = await cutFirstDownload(upload.downloadUrl, MiB);
    const across = await ranged(upload.downloadUrl, session, `bytes=${8 * MiB - 7}-${16 * MiB + 6}`);
    expect(across.status).toBe(206);
    expect(across.body.equals(content.subarray(8 * MiB - 7, 16 * MiB + 7))).toBe(true);
    const last = await ranged(upload.downloadUrl, session, `bytes=${content.length - 10}-${content.length - 2}`);
    expect(last.body.equals(content.subarray(content.length - 10, content.length - 1))).toBe(true);
    const all = await ranged(upload.downloadUrl, session, 'bytes=0-');
    expect(all.body.equals(content)).toBe(true);
    expect(await eventually(() => fileIsGone(stack, fileIdForCode(upload.code)))).toBe(true);
  });

  it('replaces a chunk sent again, and a single-chunk file works too', async () => {
    const content = randomBytes(1000);
    const upload = await created(stack, content.length);
    expect(upload.chunks).toBe(1);
    expect((await put(upload, 0, randomBytes(1000))).status).toBe(200);
    expect((await put(upload, 0, content)).status).toBe(200);
    expect((await call(upload, '/complete', 'POST')).status).toBe(201);
    expect(Buffer.from(await (await fetch(upload.downloadUrl)).arrayBuffer()).equals(content)).toBe(true);
  });

  it('can be revoked with its delete token once complete', async () => {
    const upload = await created(stack, 10);
    await put(upload, 0, randomBytes(10));
    expect((await call(upload, '/complete', 'POST')).status).toBe(201);
    const revoked = await fetch(`${stack.url}/files/${upload.code}`, {
      method: 'DELETE',
      headers: { 'x-delete-token': upload.deleteToken },
    });
    expect(revoked.status).toBe(204);
    expect((await fetch(upload.downloadUrl)).status).toBe(404);
  });
});

describe('a chunked upload refuses', () => {
  it('a create body that is not {size, meta, ttl?, downloads?}, or too large, with a 4xx and no record', async () => {
    const before = await stack.recordIds();
    const answers = await Promise.all([
      create(stack, { size: 10 }),
      create(stack, { size: 0, meta: META }),
      create(stack, { size: 1.5, meta: META }),
      create(stack, { size: 10, meta: 'not base64url!' }),
      create(stack, { size: 10, meta: 'A'.repeat(5000) }),
      create(stack, { size: 10, meta: META, extra: 1 }),
      create(stack, { size: 10, meta: META, ttl: 'forever' }),
      fetch(`${stack.url}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"size":' }),
      create(stack, { size: stack.config.limits.maxUploadBytes + 1, meta: META }),
    ]);
    const statuses = answers.map((res) => res.status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 400, 400, 400, 413]);
    for (const res of answers) expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^[A-Z_]+$/);
    // Earlier tests' files may be purged meanwhile; none may appear.
    expect((await stack.recordIds()).filter((id) => !before.includes(id))).toEqual([]);
  });

  it('chunk calls without the delete token, with another one, or for an unknown code', async () => {
    const upload = await created(stack, 100);
    const noToken = await fetch(`${upload.uploadUrl}/0`, { method: 'PUT', body: randomBytes(100) });
    expect(noToken.status).toBe(401);
    expect((await put(upload, 0, randomBytes(100), randomBytes(32).toString('base64url'))).status).toBe(403);
    const other = { ...upload, uploadUrl: `${stack.url}/uploads/${(await created(stack, 5)).code}` };
    expect((await put(other, 0, randomBytes(5))).status).toBe(403); // this upload's token, another upload
    const unknown = { ...upload, uploadUrl: `${stack.url}/uploads/${upload.code.slice(0, -2)}xx` };
    expect([400, 404]).toContain((await put(unknown, 0, randomBytes(100))).status);
    expect(await stack.blobNames()).not.toContain(`${fileIdForCode(upload.code)}/0`);
  });

  it('chunks of the wrong length or index, leaving nothing of them', async () => {
    const upload = await created(stack, 8 * MiB + 10);
    const id = fileIdForCode(upload.code);
    const short = await put(upload, 0, randomBytes(MiB));
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_INCOMPLETE');
    expect((await put(upload, 1, randomBytes(11))).status).toBe(413);
    expect((await put(upload, 2, randomBytes(10))).status).toBe(400);
    const notNumber = await fetch(`${upload.uploadUrl}/first`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${upload.deleteToken}` },
      body: 'x',
    });
    expect(notNumber.status).toBe(400);
    expect((await stack.blobNames()).filter((name) => name.includes(id))).toEqual([]);
    const status = (await (await call(upload, '', 'GET')).json()) as { stored: number[] };
    expect(status.stored).toEqual([]);
  });

  it('completing with chunks missing (409, naming them), and chunks once complete', async () => {
    const upload = await created(stack, 8 * MiB + 1);
    await put(upload, 1, randomBytes(1));
    const early = await call(upload, '/complete', 'POST');
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({
      error: { code: 'CHUNKS_MISSING', message: '1 of 2 chunks are not stored yet: 0.' },
    });
    await put(upload, 0, randomBytes(8 * MiB));
    expect((await call(upload, '/complete', 'POST')).status).toBe(201);
    expect((await put(upload, 1, randomBytes(1))).status).toBe(404);
    // Completing again (the first answer was lost on the way) answers the same, without a second file.
    const again = await call(upload, '/complete', 'POST');
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ code: upload.code, size: 8 * MiB + 1, downloadsLeft: 1 });
    expect((await fetch(upload.downloadUrl)).status).toBe(200);
    expect((await call(upload, '/complete', 'POST')).status).toBe(404); // downloaded: gone
  });
});

describe('an unfinished chunked upload', () => {
  it('is swept away with every chunk it stored once its deadline passes', async () => {
    const short = await startStack({ env: { UPLOAD_DEADLINE: '1s', SWEEP_INTERVAL: '1s' } });
    try {
      const upload = await created(short, 8 * MiB + 1);
      expect((await put(upload, 1, randomBytes(1))).status).toBe(200);
      const id = fileIdForCode(upload.code);
      expect(await short.blobNames()).toContain(`${id}/1`);
      expect(await eventually(() => fileIsGone(short, id), 20_000)).toBe(true);
      expect((await call(upload, '', 'GET')).status).toBe(404);
    } finally {
      await short.stop();
    }
  });
});
