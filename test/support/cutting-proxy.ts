import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CuttingProxy {
  /** `http://127.0.0.1:<port>`: the target, reached through the proxy. */
  readonly url: string;
  /** How many connections were cut so far. */
  readonly cuts: () => number;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of `target` that breaks the network on purpose: each of the first `cuts`
 * connections is dropped (both ways) once `afterBytes` bytes of the answer have reached the client. Later
 * connections pass untouched.
 */
export async function cuttingProxy(target: string, cuts: number, afterBytes: number): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  let connections = 0;
  let cut = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const index = connections++;
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined); // the cuts below
    }
    client.pipe(upstream);
    let passed = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (index >= cuts) {
        client.write(chunk);
        return;
      }
      const room = afterBytes - passed;
      client.write(chunk.length > room ? chunk.subarray(0, room) : chunk);
      passed += Math.min(room, chunk.length);
      if (passed >= afterBytes) {
        cut += 1;
        client.destroy();
        upstream.destroy();
      }
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts: () => cut,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
