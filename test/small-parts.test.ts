import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson, uploadMultipart } from './support/http.ts';
import { ONE_PIXEL_PNG } from './support/samples.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

/**
 * Parts up to 64 KiB are stored whole (read, checked, encrypted and written in one piece), larger ones streamed
 * through the stages (tests elsewhere). The whole path must answer exactly as the streamed one does.
 */
const KiB = 1024;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { MAX_UPLOAD_SIZE: '10KiB', DENIED_TYPES: 'image/png' } });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async (context) => {
  // Refused uploads keep nothing; accepted ones are downloaded by their test, and so purged.
  const clean = await eventually(async () => (await stack.recordCount()) === 0 && (await stack.blobNames()).length === 0, 10_000);
  expect(clean, `"${context.task.name}" left records or blobs behind`).toBe(true);
});

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code };
}

describe('small parts, stored whole', () => {
  it('refuses a small file over the cap with 413, and one of two files that together pass it', async () => {
    const one = await uploadMultipart(stack.url, [{ field: 'file', filename: 'a.bin', content: randomBytes(20 * KiB) }]);
    expect(await errorOf(one)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const two = await uploadMultipart(stack.url, [
      { field: 'file', filename: 'a.bin', content: randomBytes(6 * KiB) },
      { field: 'file', filename: 'b.bin', content: randomBytes(6 * KiB) },
    ]);
    expect(await errorOf(two)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    const put = await fetch(`${stack.url}/upload/a.bin`, { method: 'PUT', body: randomBytes(11 * KiB) });
    expect(await errorOf(put)).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses a denied type with 415 before storing it', async () => {
    const response = await uploadMultipart(stack.url, [{ field: 'file', filename: 'dot.png', content: ONE_PIXEL_PNG }]);
    expect(await errorOf(response)).toEqual({ status: 415, code: 'UNSUPPORTED_TYPE' });
  });

  it('takes files up to the cap, with their type, charset and bytes as sent', async () => {
    const text = Buffer.from('é'.repeat(5 * KiB)); // 10 KiB of two-byte characters: exactly the cap
    const invalid = Buffer.concat([Buffer.from('almost text '), Buffer.from([0xc3])]);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'text.txt', content: text }]);
    expect(answer.size).toBe(10 * KiB);
    const download = await fetch(answer.downloadUrl);
    expect(download.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(Buffer.from(await download.arrayBuffer()).equals(text)).toBe(true);
    const cut = await fetch(`${stack.url}/upload/cut.txt`, {
      method: 'PUT',
      body: invalid,
      headers: { accept: 'application/json' },
    });
    const { downloadUrl } = (await cut.json()) as { downloadUrl: string };
    const opaque = await fetch(downloadUrl);
    expect(opaque.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await opaque.arrayBuffer()).equals(invalid)).toBe(true);
  });
});
