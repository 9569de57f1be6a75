import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainedOrClosed } from './support/http.ts';
import { ONE_PIXEL_PNG } from './support/samples.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

const MiB = 1024 * 1024;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { DENIED_TYPES: 'image/png', MAX_UPLOAD_SIZE: '2GiB' } });
});
afterAll(async () => {
  await stack?.stop();
});

/** PUTs `size` bytes that start like a PNG, and reports how much had been sent when the answer came. */
function putPng(size: number): Promise<{ status: number; code: string; sentWhenAnswered: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = request(`${stack.url}/upload/picture.png`, {
      method: 'PUT',
      headers: { 'content-length': String(size), accept: 'application/json' },
    });
    req.once('response', (res) => {
      const sentWhenAnswered = sent;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => {
        req.destroy();
        const body = JSON.parse(text) as { error: { code: string } };
        resolve({ status: res.statusCode ?? 0, code: body.error.code, sentWhenAnswered });
      });
    });
    let answered = false;
    req.once('response', () => (answered = true));
    // Once answered, the server closes the connection while this side still writes: a reset is expected then.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = randomBytes(256 * 1024);
    void (async () => {
      req.write(ONE_PIXEL_PNG);
      sent += ONE_PIXEL_PNG.length;
      while (sent < size && !req.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) await drainedOrClosed(req);
      }
      if (!req.destroyed) req.end();
    })().catch(reject);
  });
}

describe('a refused type is refused from its first bytes', () => {
  it('answers 415 for a 256 MiB PNG long before the body is sent, and keeps nothing of it', async () => {
    const answer = await putPng(256 * MiB);
    expect(answer.status).toBe(415);
    expect(answer.code).toBe('UNSUPPORTED_TYPE');
    // The head is a few KiB; what was in flight in socket buffers when the answer came is all that was read.
    expect(answer.sentWhenAnswered).toBeLessThan(64 * MiB);
    const clean = await eventually(async () => (await stack.recordCount()) === 0 && (await stack.blobNames()).length === 0);
    expect(clean).toBe(true);
  });
});

describe('a server with type rules', () => {
  it('refuses end-to-end encrypted uploads, whose type it cannot check, in words and before storing anything', async () => {
    const res = await fetch(`${stack.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ size: 100, meta: 'c2VhbGVk' }),
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNSUPPORTED_TYPE');
    expect(body.error.message).toMatch(/cannot check .* end to end/);
    expect(await stack.recordCount()).toBe(0);
  });
});
