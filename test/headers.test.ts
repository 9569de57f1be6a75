import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson } from './support/http.ts';
import { startStack, type Stack } from './support/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

describe('headers on every kind of answer', () => {
  it('JSON answers, error answers, tRPC answers and static assets all say nosniff', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'h.txt', content: 'headers' }]);
    const info = `${stack.url}/trpc/file.info?input=${encodeURIComponent(JSON.stringify({ code: answer.code }))}`;
    const assetPath = /src="(\/assets\/[^"]+)"/.exec(await (await fetch(`${stack.url}/`)).text())?.[1];
    expect(assetPath).toBeDefined();
    for (const url of [
      info,
      `${stack.url}/download/nope`,
      `${stack.url}/no-such-endpoint`,
      `${stack.url}/healthz`,
      `${stack.url}${assetPath}`,
    ]) {
      const response = await fetch(url);
      await response.arrayBuffer();
      expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
    }
  });

  it('file.info, which names the file, may not be cached', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'secret-name.txt', content: 'x' }]);
    const response = await fetch(
      `${stack.url}/trpc/file.info?input=${encodeURIComponent(JSON.stringify({ code: answer.code }))}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('text downloads', () => {
  it('serves text that is valid UTF-8 throughout as text/plain; charset=utf-8', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'u.txt', content: `${'a'.repeat(8000)} naïve 日本` }]);
    const response = await fetch(answer.downloadUrl);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^inline/);
    expect(await response.text()).toContain('naïve 日本');
  });

  it('serves a file whose head is text but whose rest is not as opaque bytes, as an attachment', async () => {
    const content = Buffer.concat([Buffer.from('a'.repeat(8000)), Buffer.from([0xff, 0xfe, 0x00, 0x01])]);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'fake.txt', content }]);
    const response = await fetch(answer.downloadUrl);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(Buffer.from(await response.arrayBuffer()).equals(content)).toBe(true);
  });
});
