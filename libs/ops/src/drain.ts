import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** How often connections that finished their last response are closed while draining. */
const IDLE_SWEEP_MS = 100;

/**
 * Graceful stop of an HTTP server: stop accepting at once (new connections are refused), close idle keep-alive
 * connections, let requests in flight finish (a download streams to its end), and after `timeoutMs` cut
 * whatever is still open. Resolves with the number of connections that had to be cut.
 */
export async function drainServer(server: Server, timeoutMs: number): Promise<{ cut: number }> {
  let cut = 0;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A keep-alive connection becomes idle when its response ends; close it then, rather than wait for its timeout.
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    if ((await Promise.race([closed, timedOut])) === 'timeout') {
      cut = await new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count)));
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(sweep);
    clearTimeout(timer);
  }
  return { cut };
}

/** The base URL a listening server answers on (an IPv6 address in brackets). */
export function listeningUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
