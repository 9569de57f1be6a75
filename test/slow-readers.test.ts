import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAnswer, sha256, uploadJson } from './support/http.ts';
import { startStack, type Stack } from './support/stack.ts';

/**
 * The API reuses the buffers of decrypted chunks once the socket has taken them. A reader slower than the
 * server keeps chunks queued in the response: were a buffer reused while still queued, the bytes sent would
 * change under the reader. These tests read slowly, several at once, and compare every byte.
 */
const MiB = 1024 * 1024;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

/** A reader that pauses after every chunk. */
const SLOW = { pauseMs: 2 };

describe('slow readers of large files', () => {
  it('get every byte of their own file, four at once (6 MiB each)', async () => {
    const contents = Array.from({ length: 4 }, () => randomBytes(6 * MiB));
    const answers = await Promise.all(
      contents.map((content, i) => uploadJson(stack.url, [{ field: 'file', filename: `slow-${i}.bin`, content }])),
    );
    const received = await Promise.all(answers.map((answer) => getAnswer(answer.downloadUrl, SLOW)));
    received.forEach((got, i) => {
      expect(got.status).toBe(200);
      expect(got.body.length).toBe(contents[i]?.length);
      expect(sha256(got.body)).toBe(sha256(contents[i] ?? Buffer.alloc(0)));
    });
  });

  it('get every byte of a range that starts inside a chunk, read slowly', async () => {
    const content = randomBytes(40 * MiB);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'ranged.bin', content }]);
    const first = await getAnswer(answer.downloadUrl, { cutAfter: MiB });
    const from = 3 * 64 * 1024 + 17; // not on a chunk's edge: the first chunk sent is a view of a reused buffer
    const session = String(first.headers['one-time-session']);
    const rest = await getAnswer(answer.downloadUrl, {
      ...SLOW,
      headers: { 'one-time-session': session, range: `bytes=${from}-` },
    });
    expect(rest.status).toBe(206);
    expect(rest.body.length).toBe(content.length - from);
    expect(sha256(rest.body)).toBe(sha256(content.subarray(from)));
  });
});
