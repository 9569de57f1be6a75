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
