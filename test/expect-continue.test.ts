import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { MAX_UPLOAD_SIZE: '1GiB' } });
});
afterAll(async () => {
  await stack?.stop();
});

const BOUNDARY = 'expect-continue-test';
const FILE_PART = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="c.txt"\r\n\r\nhello\r\n--${BOUNDARY}--\r\n`;

/**
 * Sends only the head of a request that expects `100 Continue`, and returns the first answer the server sends
 * (the go-ahead or a refusal). With the go-ahead, it then sends `body` and returns the final answer too.
 */
function ask(head: string, body?: string): Promise<{ first: string; final?: string }> {
  const { port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let first: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 5 s; received: ${received}`));
    }, 5_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (first === undefined && received.includes('\r\n\r\n')) {
        first = received.slice(0, received.indexOf('\r\n\r\n'));
        if (first.startsWith('HTTP/1.1 100') && body !== undefined) {
          received = received.slice(received.indexOf('\r\n\r\n') + 4);
          socket.write(body);
          return;
        }
      }
      if (first !== undefined && !first.startsWith('HTTP/1.1 100') && received.includes('}')) done();
      else if (first?.startsWith('HTTP/1.1 100') && /\r\n\r\n[\s\S]*\}/.test(received)) done();
    });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ first: first ?? '', ...(first?.startsWith('HTTP/1.1 100') ? { final: received } : {}) });
    };
    socket.on('error', reject);
    socket.write(head);
  });
}

function head(path: string, length: number, contentType = `multipart/form-data; boundary=${BOUNDARY}`): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: ${contentType}\r\n` +
    `Content-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`
  );
}

describe('uploads that expect 100 Continue', () => {
  it('refuses a multipart upload declaring 3 GiB with 413 instead of 100 Continue', async () => {
    const { first } = await ask(head('/upload', 3 * 1024 ** 3));
    expect(first).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('refuses an invalid query parameter with 400 instead of 100 Continue', async () => {
    const { first } = await ask(head('/upload?ttl=soon', 1000));
    expect(first).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('refuses a body that is not multipart with 415 instead of 100 Continue', async () => {
    const { first } = await ask(head('/upload', 1000, 'application/octet-stream'));
    expect(first).toMatch(/^HTTP\/1\.1 415 /);
  });

  it('says 100 Continue to an upload within the rules, then stores it', async () => {
    const { first, final } = await ask(head('/upload', Buffer.byteLength(FILE_PART)), FILE_PART);
    expect(first).toMatch(/^HTTP\/1\.1 100 /);
    expect(final).toMatch(/^HTTP\/1\.1 201 /);
    expect(final).toContain('"downloadUrl"');
  });
});
