import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.ts';

/**
 * @one-time/e2e in Chromium: the same source the web page and its service worker bundle. Every published
 * vector must come out byte for byte as in Node (libs/e2e/test), and a large file must round-trip through the
 * browser's own Web Crypto and streams.
 */

const E2E_SRC = fileURLToPath(new URL('../../libs/e2e/src/', import.meta.url));
const VECTORS = fileURLToPath(new URL('../../libs/e2e/test-vectors.json', import.meta.url));

interface Vectors {
  content: {
    description: string;
    key: string;
    salt: string;
    recordSize: number;
    plaintext?: string;
    plaintextPattern?: { length: number };
    ciphertext: string;
  }[];
  decryptOnly: { description: string; key: string; ciphertext: string; plaintext: string }[];
  invalid: { description: string; key: string; ciphertext: string; reason: string }[];
  metadata: {
    description: string;
    key: string;
    iv: string;
    metadata: { name: string; type: string; size: number };
    sealed: string;
  }[];
  fragments: { key: string; fragment: string }[];
}

let server: Server;
let origin: string;
let browser: Browser;
let page: Page;
let vectors: Vectors;
const pageErrors: string[] = [];

beforeAll(async () => {
  vectors = JSON.parse(await readFile(VECTORS, 'utf8')) as Vectors;
  // One ES module for the browser: the public API plus the testing-only fixed-IV sealer. platform 'browser'
  // with nothing external: a Node built-in anywhere in the library would fail this build.
  const result = await build({
    stdin: {
      contents: `export * from './index.ts';\nexport { sealMetadataWithIv } from './metadata.ts';\n`,
      resolveDir: E2E_SRC,
      sourcefile: 'e2e-browser-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const bundle = result.outputFiles[0]?.text ?? '';
  const vectorsText = await readFile(VECTORS);
  const html =
    '<!doctype html><title>e2e format</title><script type="module">import * as e2e from "/e2e.js"; window.e2e = e2e;</script>';
  server = createServer((request, response) => {
    const [type, body] =
      request.url === '/'
        ? ['text/html', html]
        : request.url === '/e2e.js'
          ? ['text/javascript', bundle]
          : request.url === '/vectors.json'
            ? ['application/json', vectorsText]
            : [undefined, undefined];
    if (type === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // 127.0.0.1 is a secure context, so crypto.subtle is there as on the real (https) site.
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'e2e' in window);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  expect(pageErrors).toEqual([]);
});

/** What the page computed for every vector; compared with the vectors file in Node. */
interface BrowserResults {
  content: { encrypted: string; decrypted: string; decryptedBytewise: string; size: number }[];
  decryptOnly: string[];
  invalid: string[];
  metadata: { sealed: string; opened: unknown; wrongKey: string }[];
  fragments: { fragment: string; key: string }[];
}

describe('@one-time/e2e in Chromium', () => {
  it('reproduces every vector: RFC 8188 examples, ours, the rejections, metadata and fragments', async () => {
    const results = await page.evaluate(async (): Promise<BrowserResults> => {
      type Transform = TransformStream<Uint8Array, Uint8Array>;
      interface Api {
        encryptStream(key: Uint8Array, options?: { recordSize?: number; salt?: Uint8Array }): Transform;
        decryptStream(key: Uint8Array): Transform;
        encryptedSize(plainSize: number, recordSize?: number): number;
        keyToFragment(key: Uint8Array): string;
        keyFromFragment(fragment: string): Uint8Array;
        openMetadata(key: Uint8Array, sealed: string): Promise<unknown>;
        sealMetadataWithIv(key: Uint8Array, meta: unknown, iv: Uint8Array): Promise<string>;
        generateKey(): Uint8Array;
      }
      const e2e = (window as unknown as { e2e: Api }).e2e;
      const data = (await (await fetch('/vectors.json')).json()) as Vectors;
      const fromB64u = (text: string) =>
        Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));
      const b64u = (bytes: Uint8Array) => {
        let binary = '';
        for (const byte of bytes) binary += String.fromCharCode(byte);
        return btoa(binary).replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_');
      };
      const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      // Collects through pipeTo, which rejects with the stream's own error (a Response body would turn an
      // E2EDecryptError into a bare TypeError).
      const run = async (pieces: Uint8Array[], transform: Transform): Promise<Uint8Array> => {
        const chunks: Uint8Array[] = [];
        const source = new ReadableStream<Uint8Array>({
          pull(controller) {
            const piece = pieces.shift();
            if (piece) controller.enqueue(piece);
            else controller.close();
          },
        });
        await source.pipeThrough(transform).pipeTo(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
        const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
        let offset = 0;
        for (const chunk of chunks) {
          out.set(chunk, offset);
          offset += chunk.length;
        }
        return out;
      };
      const outcome = (promise: Promise<unknown>) =>
        promise.then(
          () => 'accepted',
          (error: { name: string; reason?: string }) => `${error.name}:${error.reason ?? ''}`,
        );

      const content = [];
      for (const vector of data.content) {
        const key = fromB64u(vector.key);
        const plain =
          vector.plaintext !== undefined
            ? fromB64u(vector.plaintext)
            : Uint8Array.from({ length: vector.plaintextPattern!.length }, (_, i) => i % 251);
        const encrypted = await run(
          [plain],
          e2e.encryptStream(key, { recordSize: vector.recordSize, salt: fromB64u(vector.salt) }),
        );
        const cipher = fromB64u(vector.ciphertext);
        const decrypted = await run([cipher], e2e.decryptStream(key));
        const bytewise =
          cipher.length < 2000
            ? await run(
                Array.from(cipher, (b) => Uint8Array.of(b)),
                e2e.decryptStream(key),
              )
            : decrypted;
        content.push({
          encrypted: b64u(encrypted),
          decrypted: b64u(decrypted),
          decryptedBytewise: b64u(bytewise),
          size: e2e.encryptedSize(plain.length, vector.recordSize),
        });
      }
      const decryptOnly = [];
      for (const vector of data.decryptOnly) {
        decryptOnly.push(b64u(await run([fromB64u(vector.ciphertext)], e2e.decryptStream(fromB64u(vector.key)))));
      }
      const invalid = [];
      for (const vector of data.invalid) {
        invalid.push(await outcome(run([fromB64u(vector.ciphertext)], e2e.decryptStream(fromB64u(vector.key)))));
      }
      const metadata = [];
      for (const vector of data.metadata) {
        const key = fromB64u(vector.key);
        metadata.push({
          sealed: await e2e.sealMetadataWithIv(key, vector.metadata, fromB64u(vector.iv)),
          opened: await e2e.openMetadata(key, vector.sealed),
          wrongKey: await outcome(e2e.openMetadata(e2e.generateKey(), vector.sealed)),
        });
      }
      const fragments = data.fragments.map((vector) => ({
        fragment: e2e.keyToFragment(Uint8Array.from(vector.key.match(/../g)!, (h) => parseInt(h, 16))),
        key: hex(e2e.keyFromFragment(`#${vector.fragment}`)),
      }));
      return { content, decryptOnly, invalid, metadata, fragments };
    });

    expect(results.content).toHaveLength(vectors.content.length);
    vectors.content.forEach((vector, i) => {
      const got = results.content[i]!;
      const plain =
        vector.plaintext ??
        Buffer.from(Uint8Array.from({ length: vector.plaintextPattern!.length }, (_, j) => j % 251)).toString('base64url');
      expect(got.encrypted, vector.description).toBe(vector.ciphertext);
      expect(got.decrypted, vector.description).toBe(plain);
      expect(got.decryptedBytewise, vector.description).toBe(plain);
      expect(got.size, vector.description).toBe(Buffer.from(vector.ciphertext, 'base64url').length);
    });
    expect(results.decryptOnly).toEqual(vectors.decryptOnly.map((vector) => vector.plaintext));
    expect(results.invalid).toEqual(vectors.invalid.map((vector) => `E2EDecryptError:${vector.reason}`));
    expect(results.metadata).toEqual(
      vectors.metadata.map((vector) => ({ sealed: vector.sealed, opened: vector.metadata, wrongKey: 'E2EKeyError:wrong' })),
    );
    expect(results.fragments).toEqual(vectors.fragments);
  });

  it('round-trips 8 MiB through the browser streams in odd chunks, at the predicted size', async () => {
    const outcome = await page.evaluate(async () => {
      type Transform = TransformStream<Uint8Array, Uint8Array>;
      interface Api {
        generateKey(): Uint8Array;
        encryptStream(key: Uint8Array): Transform;
        decryptStream(key: Uint8Array): Transform;
        encryptedSize(plainSize: number): number;
      }
      const e2e = (window as unknown as { e2e: Api }).e2e;
      const size = 8 * 1024 * 1024;
      const plain = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(plain.subarray(i, i + 65536));
      /** `data` in pieces cycling through `sizes`, as a stream. */
      const piecesOf = (data: Uint8Array, sizes: number[]) => {
        let offset = 0;
        let turn = 0;
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            if (offset >= data.length) return controller.close();
            const length = sizes[turn++ % sizes.length]!;
            controller.enqueue(data.slice(offset, offset + length));
            offset += length;
          },
        });
      };
      const key = e2e.generateKey();
      const cipher = new Uint8Array(
        await new Response(piecesOf(plain, [1, 65535, 1_000_003, 7]).pipeThrough(e2e.encryptStream(key))).arrayBuffer(),
      );
      const back = new Uint8Array(
        await new Response(piecesOf(cipher, [65536, 3, 2_000_000]).pipeThrough(e2e.decryptStream(key))).arrayBuffer(),
      );
      const digest = async (bytes: Uint8Array<ArrayBuffer>) =>
        Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))).join(',');
      return {
        cipherLength: cipher.length,
        expectedLength: e2e.encryptedSize(size),
        same: back.length === size && (await digest(back)) === (await digest(plain)),
      };
    });
    expect(outcome.cipherLength).toBe(outcome.expectedLength);
    expect(outcome.same).toBe(true);
  });
});
