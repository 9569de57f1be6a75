import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    worker: false,
    env: { HEADERS_TIMEOUT: '2s', IDLE_TIMEOUT: '1s', UPLOADS_IN_FLIGHT_PER_CLIENT: '2' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

interface Client {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection (or after `ms`, whichever is first). */
  answer(ms: number): Promise<{ text: string; closed: boolean; afterMs: number }>;
}

/** A raw connection to the API, so a test controls every byte and every pause. */
function client(): Client {
  const socket = connect(Number(new URL(stack.url).port), '127.0.0.1');
  const started = Date.now();
  let text = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined); // a reset after the server gave up is what some tests expect
  const ended = new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve())));
  return {
    socket,
    async answer(ms) {
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, ms))]);
      return { text, closed, afterMs: Date.now() - started };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function putHead(length: number): string {
  return `PUT /upload/slow.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: ${length}\r\n\r\n`;
}

describe('slow and stalled clients', () => {
  it('answers 408 to an upload whose body stops (20 of 100 bytes), and keeps nothing of it', async () => {
    const c = client();
    c.socket.write(putHead(100) + 'x'.repeat(20));
    const { text, closed, afterMs } = await c.answer(10_000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"UPLOAD_TIMEOUT"');
    expect(closed).toBe(true);
    expect(afterMs).toBeLessThan(5_000);
    expect(await eventually(async () => (await stack.recordCount()) === 0 && (await stack.blobNames()).length === 0)).toBe(true);
  });

  it('closes a connection whose headers trickle in at one byte per 100 ms', async () => {
    const c = client();
    const head = putHead(5) + 'hello';
    void (async () => {
      for (const byte of head) {
        if (c.socket.destroyed) return;
        c.socket.write(byte);
        await sleep(100);
      }
    })();
    const { closed, afterMs } = await c.answer(10_000);
    expect(closed).toBe(true);
    expect(afterMs).toBeLessThan(5_000); // the whole head would take 9 s
  });

  it('never cuts an upload that keeps moving, however slowly (12 bytes over 3.6 s with a 1 s idle limit)', async () => {
    const c = client();
    c.socket.write(putHead(12));
    for (const byte of 'slow but on!') {
      await sleep(300);
      c.socket.write(byte);
    }
    const { text } = await c.answer(5_000);
    expect(text).toMatch(/^HTTP\/1\.1 201 /);
  });

  it('allows two uploads in flight per client, and answers 429 to a third at once', async () => {
    const before = new Set(await stack.recordIds());
    const first = client();
    const second = client();
    first.socket.write(putHead(1000) + 'a');
    second.socket.write(putHead(1000) + 'b');
    // Both are in flight (each keeps sending a byte now and then, so neither stalls).
    const keepAlive = setInterval(() => {
      first.socket.write('a');
      second.socket.write('b');
    }, 200);
    try {
      await sleep(300);
      const third = client();
      third.socket.write(putHead(5) + 'third');
      const { text, afterMs } = await third.answer(3_000);
      expect(text).toMatch(/^HTTP\/1\.1 429 /);
      expect(text).toContain('At most 2 uploads at a time');
      expect(afterMs).toBeLessThan(1_000);
    } finally {
      clearInterval(keepAlive);
      first.socket.destroy();
      second.socket.destroy();
    }
    // The two cut-off uploads leave nothing; what is left is what the earlier test stored.
    const clean = await eventually(async () => (await stack.recordIds()).every((id) => before.has(id)));
    expect(clean).toBe(true);
    expect((await stack.blobNames()).map((name) => name.split('/')[0])).toEqual([...before]);
  });
});
