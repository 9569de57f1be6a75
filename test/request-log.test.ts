import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson } from './support/http.ts';
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

describe('request logs', () => {
  it('write one JSON line per request with an id, and never a code or a token', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'logged.txt', content: 'log me' }], { ttl: '1h' });
    const download = await fetch(`${answer.downloadUrl}?utm=${answer.code}`, { headers: { 'x-request-id': 'trace-123' } });
    expect(download.headers.get('x-request-id')).toBe('trace-123');
    expect(await download.text()).toBe('log me');
    const second = await uploadJson(stack.url, [{ field: 'file', filename: 'revoked.txt', content: 'gone' }]);
    const revoked = await fetch(`${stack.url}/files/${second.code}`, {
      method: 'DELETE',
      headers: { 'x-delete-token': second.deleteToken },
    });
    expect(revoked.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const entries = lines.map(
      (line) =>
        JSON.parse(line) as {
          req?: { id?: string; method?: string; url?: string };
          res?: { statusCode?: number };
          responseTime?: number;
        },
    );
    const requests = entries.filter((entry) => entry.req && entry.res);
    expect(requests.map((entry) => `${entry.req?.method} ${entry.req?.url} ${entry.res?.statusCode}`)).toEqual([
      'POST /upload 201',
      'GET /download/[redacted] 200',
      'POST /upload 201',
      'DELETE /files/[redacted] 204',
    ]);
    for (const entry of requests) {
      expect(entry.req?.id).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(typeof entry.responseTime).toBe('number');
    }
    expect(requests[1]?.req?.id).toBe('trace-123');
    const everything = lines.join('\n');
    expect(everything).not.toContain(answer.code);
    for (const secret of [answer.code, answer.deleteToken, second.code, second.deleteToken])
      expect(everything).not.toContain(secret);
    expect(everything).not.toContain('logged.txt');
  });
});
