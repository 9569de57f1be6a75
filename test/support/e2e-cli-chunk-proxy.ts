import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** What to break: the nth chunk upload (`PUT /uploads/…`, counted from 0 across all connections). */
export type ChunkCut =
  /** The connection drops once this many bytes of the request (headers and body) went through. */
  | { readonly put: number; readonly afterBytes: number }
  /** The whole request reaches the server, but the connection drops as its answer comes back. */
  | { readonly put: number; readonly dropAnswer: true };

export interface ChunkProxy {
  readonly url: string;
  /** Connections cut so far. */
  cuts(): number;
  /** `PUT /uploads/…` requests seen (retries included). */
  puts(): number;
  /** `GET /uploads/<code>` requests seen: the client asking which chunks arrived. */
  statusQueries(): number;
  close(): Promise<void>;
}

const PUT = Buffer.from('PUT /uploads/');
const STATUS = /^GET \/uploads\/[A-Za-z0-9_-]+ HTTP/;

/**
 * A loopback TCP proxy in front of `target` that breaks chunk uploads on purpose, as a flaky network would:
 * mid-request, or after the request when the answer is on its way back. Everything else passes untouched.
 * (Request starts are found by their request line; the bodies are ciphertext, which never contains one.)
 */
export async function chunkCuttingProxy(target: string, plan: readonly ChunkCut[]): Promise<ChunkProxy> {
  const { hostname, port } = new URL(target);
  let puts = 0;
  let statusQueries = 0;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    /** The cut planned for the request now going through this connection, and its bytes so far. */
    let current: { cut: ChunkCut; sent: number } | undefined;
    const cut = () => {
      cuts += 1;
      current = undefined;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data: Buffer) => {
      if (STATUS.test(data.subarray(0, 64).toString('latin1'))) statusQueries += 1;
      const start = data.indexOf(PUT);
      if (start === 0 || (start > 0 && data[start - 1] === 0x0a)) {
        const ordinal = puts++;
        const planned = plan.find((entry) => entry.put === ordinal);
        current = planned ? { cut: planned, sent: 0 } : undefined;
      }
      if (current && 'afterBytes' in current.cut) {
        const room = current.cut.afterBytes - current.sent;
        if (data.length >= room) {
          upstream.write(data.subarray(0, room));
          cut();
          return;
        }
        current.sent += data.length;
      }
      upstream.write(data);
    });
    client.on('end', () => upstream.end());
    upstream.on('data', (data: Buffer) => {
      if (current && 'dropAnswer' in current.cut) {
        cut();
        return;
      }
      client.write(data);
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts: () => cuts,
    puts: () => puts,
    statusQueries: () => statusQueries,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
