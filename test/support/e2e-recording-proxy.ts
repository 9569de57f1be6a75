import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretsIn } from './secret-scan.ts';

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: what the browser talks to. */
  readonly url: string;
  /** Where connections go; set once the API listens (its port is known only then). */
  target: string;
  /** Bytes the server received through the proxy, in all. */
  readonly bytesToServer: () => number;
  /**
   * The next request whose request line matches `requestLine` (e.g. `PUT /uploads/<code>/2 `) reaches the server
   * whole, but its connection is cut as the answer starts to come back: what a dropped connection after the
   * server stored something looks like to the client. Once.
   */
  loseAnswerOnce(requestLine: RegExp): void;
  /** How many answers were lost so far. */
  readonly answersLost: () => number;
  /**
   * Each secret (and the form it was in) found in anything the server received so far, with the connection:
   * text secrets in every encoding `secretsIn` knows, and byte strings as they are.
   */
  scan(secrets: Readonly<Record<string, string>>, rawSecrets?: Readonly<Record<string, Uint8Array>>): Promise<string[]>;
  close(): Promise<void>;
}

/** Longer than any encoding of a secret looked for: one cut across two reads is still seen whole. */
const OVERLAP = 512;

/**
 * A loopback TCP proxy in front of the API that records every byte sent to the server (request lines, headers,
 * bodies: whatever the connections carry), one file per connection, so a test can look for a secret that
 * became known only later (the key a page generated). The server's view of the traffic, below any HTTP library.
 */
export async function recordingProxy(): Promise<RecordingProxy> {
  const folder = await mkdtemp(join(tmpdir(), 'one-time-e2e-proxy-'));
  let bytes = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const recordings = new Set<WriteStream>();
  const proxy = { target: '' };
  let armed: RegExp | undefined;
  let lost = 0;

  const server: Server = createServer((client) => {
    const { hostname, port } = new URL(proxy.target);
    const upstream = connect(Number(port), hostname);
    const recording = createWriteStream(join(folder, `${String(connections++).padStart(6, '0')}.bin`));
    recordings.add(recording);
    recording.on('close', () => recordings.delete(recording));
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        if (socket === client) recording.end();
      });
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let recent: Buffer = Buffer.alloc(0);
    let cutNextAnswer = false;
    client.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      recording.write(chunk);
      if (armed === undefined) return;
      // A request line starts a read (no pipelining); one split across reads is found with the previous tail.
      if (
        armed.test(chunk.toString('latin1')) ||
        armed.test(Buffer.concat([recent, chunk.subarray(0, 1024)]).toString('latin1'))
      ) {
        armed = undefined;
        cutNextAnswer = true;
      }
      recent = chunk.subarray(Math.max(0, chunk.length - 512));
    });
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!cutNextAnswer) {
        if (!client.write(chunk)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
        return;
      }
      // A few bytes of the answer get through, so the browser knows the request was received and does not
      // quietly send it again on a new connection (it does when a reused one closes before any answer).
      lost += 1;
      client.write(chunk.subarray(0, 9), () => {
        client.destroy();
        upstream.destroy();
      });
      cutNextAnswer = false;
      upstream.pause();
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const flushed = () =>
    Promise.all([...recordings].map((recording) => new Promise<void>((resolve) => recording.write('', () => resolve()))));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get target() {
      return proxy.target;
    },
    set target(value: string) {
      proxy.target = value;
    },
    bytesToServer: () => bytes,
    loseAnswerOnce(requestLine) {
      armed = requestLine;
    },
    answersLost: () => lost,
    async scan(secrets, rawSecrets = {}) {
      await flushed();
      const found = new Set<string>();
      for (const name of (await readdir(folder)).sort()) {
        let tail = Buffer.alloc(0);
        for await (const chunk of createReadStream(join(folder, name), { highWaterMark: 4 * 1024 * 1024 })) {
          const window = Buffer.concat([tail, chunk as Buffer]);
          for (const hit of secretsIn(window, secrets)) found.add(`${hit} (connection ${name})`);
          for (const [what, raw] of Object.entries(rawSecrets)) {
            if (window.includes(Buffer.from(raw))) found.add(`${what} (raw, connection ${name})`);
          }
          tail = window.subarray(Math.max(0, window.length - OVERLAP));
        }
      }
      return [...found];
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...recordings].map((recording) => new Promise<void>((resolve) => recording.end(() => resolve()))));
      await rm(folder, { recursive: true, force: true });
    },
  };
}
