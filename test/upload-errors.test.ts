import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generatedFile, multipart, uploadMultipart } from './support/http.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { MAX_UPLOAD_SIZE: '1MiB', MAX_FILES_PER_UPLOAD: '3' } });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async (context) => {
  // Whatever the request did, nothing of it may be left: no record, no blob, no uncommitted block. Files a test
  // stored on purpose (201) are downloaded by it, and so purged.
  const clean = await eventually(async () => (await stack.recordCount()) === 0 && (await stack.blobNames()).length === 0, 10_000);
  expect(
    clean,
    `"${context.task.name}" left behind ${await stack.recordCount()} records and blobs ${JSON.stringify(await stack.blobNames())}`,
  ).toBe(true);
});

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.message.length).toBeGreaterThan(0);
  return { status: response.status, code: body.error.code };
}

describe('over-cap uploads', () => {
  it('answers 413 for a multipart file over the cap and keeps nothing of it', async () => {
    const big = generatedFile(3 * 1024 * 1024);
    const response = await uploadMultipart(stack.url, [{ field: 'file', filename: 'big.bin', content: big.stream() }]);
    expect(await errorOf(response)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('counts the cap across all files of one upload', async () => {
    const response = await uploadMultipart(stack.url, [
      { field: 'file', filename: 'a.bin', content: generatedFile(700 * 1024).stream() },
      { field: 'file', filename: 'b.bin', content: generatedFile(700 * 1024).stream() },
    ]);
    expect(await errorOf(response)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers 413 for a PUT whose Content-Length is over the cap, before reading it', async () => {
    const response = await fetch(`${stack.url}/upload/big.bin`, {
      method: 'PUT',
      headers: { 'content-length': String(2 * 1024 * 1024) },
      body: Buffer.alloc(2 * 1024 * 1024),
    });
    expect(await errorOf(response)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers 413 for a chunked PUT that grows past the cap', async () => {
    const response = await fetch(`${stack.url}/upload/big.bin`, {
      method: 'PUT',
      body: Readable.toWeb(generatedFile(3 * 1024 * 1024).stream()) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(await errorOf(response)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('bad input gets a 4xx and leaves nothing', () => {
  it('refuses a request that is not multipart', async () => {
    const response = await fetch(`${stack.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"file":"x"}',
    });
    expect(await errorOf(response)).toEqual({ status: 415, code: 'NOT_MULTIPART' });
  });

  it('refuses a multipart body with no file part', async () => {
    const response = await uploadMultipart(stack.url, [], { ttl: '1h' });
    expect(await errorOf(response)).toEqual({ status: 400, code: 'NO_FILE' });
  });

  it('refuses unknown form fields', async () => {
    const response = await uploadMultipart(stack.url, [{ field: 'file', filename: 'a.txt', content: 'a' }], { colour: 'blue' });
    expect(await errorOf(response)).toEqual({ status: 400, code: 'BAD_REQUEST' });
  });

  it('refuses more files than allowed', async () => {
    const files = Array.from({ length: 4 }, (_, i) => ({ field: 'file', filename: `${i}.txt`, content: `${i}` }));
    expect(await errorOf(await uploadMultipart(stack.url, files))).toEqual({ status: 400, code: 'TOO_MANY_FILES' });
  });

  it('refuses an empty form', async () => {
    const response = await fetch(`${stack.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz--\r\n',
    });
    expect(await errorOf(response)).toEqual({ status: 400, code: 'NO_FILE' });
  });

  it('refuses a code of the wrong length or alphabet before any lookup', async () => {
    for (const code of ['A'.repeat(21), 'A'.repeat(23), `${'A'.repeat(21)}!`, '%00']) {
      const response = await fetch(`${stack.url}/download/${code}`);
      expect(await errorOf(response)).toEqual({ status: 400, code: 'INVALID_CODE' });
    }
  });

  it('answers an over-long header with a JSON 431', async () => {
    const response = await fetch(`${stack.url}/download/AAAAAAAAAAAAAAAAAAAAAA`, {
      headers: { 'x-filler': 'x'.repeat(64 * 1024) },
    });
    expect(response.status).toBe(431);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });

  it('refuses a malformed multipart body', async () => {
    const response = await fetch(`${stack.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: 'this is not multipart at all',
    });
    expect(await errorOf(response)).toEqual({ status: 400, code: 'MALFORMED_UPLOAD' });
  });

  it('cleans up when the client disconnects half way through an upload', async () => {
    let uploadBegan = false;
    const { body, contentType } = multipart([
      { field: 'file', filename: 'cut.bin', content: generatedFile(900 * 1024).stream() },
    ]);
    const url = new URL(`${stack.url}/upload`);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': contentType, 'content-length': String(2 * 1024 * 1024) },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      let sent = 0;
      body.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        req.write(chunk);
        if (sent > 400 * 1024) {
          body.destroy();
          // The upload was under way: its record and its blob exist before the client goes.
          void eventually(async () => (await stack.recordCount()) === 1, 5_000).then((began) => {
            uploadBegan = began;
            req.destroy();
          });
        }
      });
    });
    expect(uploadBegan).toBe(true);
    // the afterEach check proves that nothing is left of it
  });

  it('takes file names with paths, emoji and bidi marks safely', async () => {
    const response = await uploadMultipart(stack.url, [
      { field: 'file', filename: '../../etc/pa\u202esswd 😀.txt', content: 'x' },
    ]);
    expect(response.status).toBe(201);
    const { downloadUrl } = (await response.json()) as { downloadUrl: string };
    const download = await fetch(downloadUrl);
    expect(download.headers.get('content-disposition')).toBe(
      `inline; filename="pa_sswd __.txt"; filename*=UTF-8''pa_sswd%20%F0%9F%98%80.txt`,
    );
    await download.arrayBuffer();
  });

  it('takes a 1,000-character file name, cut to 255 characters', async () => {
    const response = await uploadMultipart(stack.url, [{ field: 'file', filename: `${'n'.repeat(1000)}.txt`, content: 'x' }]);
    expect(response.status).toBe(201);
    const { downloadUrl } = (await response.json()) as { downloadUrl: string };
    const download = await fetch(downloadUrl);
    expect(download.headers.get('content-disposition')).toContain(`filename="${'n'.repeat(251)}.txt"`);
    await download.arrayBuffer();
  });

  it('refuses a part header with raw control characters as malformed', async () => {
    const response = await uploadMultipart(stack.url, [{ field: 'file', filename: 'bell\u0007.txt', content: 'x' }]);
    expect(await errorOf(response)).toEqual({ status: 400, code: 'MALFORMED_UPLOAD' });
  });
});
