import { request } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../apps/api/src/http/request-log.ts';
import { uploadJson, type UploadAnswer } from './support/http.ts';
import { startStack, type Stack } from './support/stack.ts';

let stack: Stack;
const lines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    );
    done();
  },
});

beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'info' }, logDestination: capture });
});
afterAll(async () => {
  await stack?.stop();
});

interface Entry {
  level?: number;
  req?: { id?: string; method?: string; url?: string; headers?: unknown };
  res?: { statusCode?: number; headers?: unknown };
  responseTime?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request logs', () => {
  it('write one JSON line per request with an id, and never a code, a token or a file name', async () => {
    const first = await uploadJson(stack.url, [{ field: 'file', filename: 'logged.txt', content: 'log me' }], { ttl: '1h' });
    const head = await fetch(`${stack.url}/DOWNLOAD/${first.code}`, {
      method: 'HEAD',
      headers: { 'x-request-id': 'not a sane id!' },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-request-id')).toMatch(UUID);
    const download = await fetch(`${first.downloadUrl}?utm=${first.code}`, {
      headers: { 'x-request-id': 'trace-123', cookie: 'session=cookie-secret-value' },
    });
    expect(download.headers.get('x-request-id')).toBe('trace-123');
    expect(await download.text()).toBe('log me');

    const put = await fetch(`${stack.url}/upload/secret-name.txt?downloads=2`, {
      method: 'PUT',
      headers: { accept: 'application/json', 'x-request-id': 'x'.repeat(65) },
      body: 'put me',
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('x-request-id')).toMatch(UUID);
    const third = (await put.json()) as UploadAnswer;
    const info = await fetch(`${stack.url}/trpc/file.info?input=${encodeURIComponent(JSON.stringify({ code: third.code }))}`);
    expect(info.status).toBe(200);
    const bearer = await fetch(`${stack.url}/files/${third.code}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${third.deleteToken}` },
    });
    expect(bearer.status).toBe(204);

    const second = await uploadJson(stack.url, [{ field: 'file', filename: 'revoked.txt', content: 'gone' }]);
    const revoked = await fetch(`${stack.url}/files/${second.code}`, {
      method: 'DELETE',
      headers: { 'x-delete-token': second.deleteToken },
    });
    expect(revoked.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const entries = lines.map((line) => JSON.parse(line) as Entry);
    const requests = entries.filter((entry) => entry.req && entry.res);
    expect(requests.map((entry) => `${entry.req?.method} ${entry.req?.url} ${entry.res?.statusCode}`)).toEqual([
      'POST /upload 201',
      'HEAD /DOWNLOAD/[redacted] 200',
      'GET /download/[redacted] 200',
      'PUT /upload/[redacted] 201',
      'GET /trpc/file.info 200',
      'DELETE /files/[redacted] 204',
      'POST /upload 201',
      'DELETE /files/[redacted] 204',
    ]);
    for (const entry of requests) {
      expect(entry.req?.id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(typeof entry.responseTime).toBe('number');
      expect(entry.req?.headers).toBeUndefined();
      expect(entry.res?.headers).toBeUndefined();
    }
    expect(requests[1]?.req?.id).toBe(head.headers.get('x-request-id'));
    expect(requests[2]?.req?.id).toBe('trace-123');
    expect(requests[3]?.req?.id).toBe(put.headers.get('x-request-id'));
    expect(new Set(requests.map((entry) => entry.req?.id)).size).toBe(requests.length);

    const everything = lines.join('\n');
    for (const secret of [first, second, third].flatMap((answer) => [answer.code, answer.deleteToken])) {
      expect(everything).not.toContain(secret);
    }
    for (const other of ['logged.txt', 'secret-name', 'revoked.txt', 'cookie-secret-value', 'utm', 'downloads=2']) {
      expect(everything).not.toContain(other);
    }
  });
});

describe('a download the client cuts off', () => {
  it('is one info line without a stack, not a warning: the client may resume', async () => {
    const content = Buffer.alloc(40 * 1024 * 1024, 7); // more than loopback socket buffers take at once
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'cut.bin', content }]);
    const from = lines.length;
    await new Promise<void>((resolve, reject) => {
      const req = request(answer.downloadUrl, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      req.end();
    });
    let cut: Array<Entry & { msg?: string; err?: unknown }> = [];
    for (let tries = 0; tries < 50 && cut.length === 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      cut = lines
        .slice(from)
        .map((line) => JSON.parse(line) as Entry & { msg?: string })
        .filter((entry) => entry.msg?.startsWith('download'));
    }
    expect(cut.map((entry) => [entry.level, entry.msg])).toEqual([[30, 'download cut off: the client left or stalled']]);
    expect(cut[0]?.err).toBeUndefined();
  });
});

describe('redactUrl', () => {
  it('keeps the route and redacts codes, file names, unknown paths and query strings', () => {
    expect(redactUrl('/')).toBe('/');
    expect(redactUrl('/upload')).toBe('/upload');
    expect(redactUrl('/upload?ttl=1h')).toBe('/upload');
    expect(redactUrl('/upload/report.pdf?ttl=1h')).toBe('/upload/[redacted]');
    expect(redactUrl('/download/Xq3abcdefghijklmnopqrs')).toBe('/download/[redacted]');
    expect(redactUrl('/Download/Xq3abcdefghijklmnopqrs/')).toBe('/Download/[redacted]/');
    expect(redactUrl('/files/Xq3abcdefghijklmnopqrs')).toBe('/files/[redacted]');
    expect(redactUrl('/d/Xq3abcdefghijklmnopqrs')).toBe('/d/[redacted]');
    expect(redactUrl('/trpc/file.info?input=%7B%22code%22%3A%22x%22%7D')).toBe('/trpc/file.info');
    expect(redactUrl('/trpc/Xq3abcdefghijklmnopqrs')).toBe('/trpc/[redacted]');
    expect(redactUrl('/Xq3abcdefghijklmnopqrs')).toBe('/[redacted]');
    expect(redactUrl('//download/x/y')).toBe('//[redacted]/[redacted]/[redacted]');
    expect(redactUrl('http://host/download/Xq3abcdefghijklmnopqrs')).not.toContain('Xq3');
  });
});
