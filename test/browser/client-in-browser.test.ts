import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.ts';
import { startStack, type Stack } from '../support/stack.ts';

let stack: Stack;
let browser: Browser;
let bundle: string;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  // The client as a browser would get it: one ES module, no Node built-ins.
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../../libs/client/src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: ['node:*'],
  });
  bundle = result.outputFiles[0]?.text ?? '';
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('@one-time/client in Chromium', () => {
  it('uploads a File, reads its info, downloads it once and gets typed errors', async () => {
    const page = await browser.newPage();
    // A page on the API's own origin, so the client talks to it without CORS.
    await page.route(`${stack.url}/__client-test`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>client test</title><p>client test</p>' }),
    );
    await page.goto(`${stack.url}/__client-test`);
    await page.addScriptTag({ type: 'module', content: `${bundle}\nwindow.oneTime = { createOneTimeClient, OneTimeError };` });
    await page.waitForFunction(() => 'oneTime' in window);

    const outcome = await page.evaluate(async (baseUrl) => {
      type Api = {
        createOneTimeClient(options: { baseUrl: string }): {
          upload(input: File, options: { ttl: string }): Promise<{ code: string; deleteToken: string }>;
          info(code: string): Promise<{ name: string; size: number | null }>;
          download(code: string): Promise<{ name: string; stream: ReadableStream<Uint8Array> }>;
        };
      };
      const { createOneTimeClient } = (window as unknown as { oneTime: Api }).oneTime;
      const client = createOneTimeClient({ baseUrl });
      const sent = await client.upload(new File(['hello from the browser'], 'greeting.txt'), { ttl: '10m' });
      const info = await client.info(sent.code);
      const file = await client.download(sent.code);
      const text = await new Response(file.stream).text();
      const again = await client.download(sent.code).then(
        () => 'served twice',
        (error: { name: string; code: string }) => `${error.name}:${error.code}`,
      );
      return { info, name: file.name, text, again };
    }, stack.url);

    expect(outcome).toEqual({
      info: expect.objectContaining({ name: 'greeting.txt', size: 22 }) as unknown,
      name: 'greeting.txt',
      text: 'hello from the browser',
      again: 'OneTimeError:NOT_FOUND',
    });
    await page.close();
  });
});
