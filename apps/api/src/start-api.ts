import { createServer, type Server } from 'node:http';
import { AppError, type Config, type DestinationStream, createLogger, errorBody } from '@one-time/core';
import type { Duplex } from 'node:stream';
import { connectInfrastructure, type Infrastructure } from '@one-time/infra';
import { ApiMetrics, drainServer, listeningUrl } from '@one-time/ops';
import { createApp } from './create-app.ts';
import { deferContinue } from './http/expect-continue.ts';
import { limitSlowClients } from './http/slow-clients.ts';

export interface RunningApi {
  readonly url: string;
  /** The base of the links handed out. */
  readonly publicUrl: string;
  readonly server: Server;
  readonly infra: Infrastructure;
  readonly metrics: ApiMetrics;
  /**
   * Graceful stop: `/readyz` turns 503, the port stops accepting, transfers in flight may finish within
   * SHUTDOWN_TIMEOUT (then they are cut), and only then MongoDB and Redis are closed.
   */
  close(): Promise<void>;
}

/** Connects, listens, and returns a handle that closes everything; used by `main.ts` and by the tests. */
export interface StartApiOptions {
  /** Where log lines go (default stdout); tests capture them here. */
  readonly logDestination?: DestinationStream;
}

export async function startApi(config: Config, options: StartApiOptions = {}): Promise<RunningApi> {
  const log = createLogger('api', config.logLevel, options.logDestination);
  const infra = await connectInfrastructure(config);
  // Stalled headers are noticed within a second of HEADERS_TIMEOUT (Node checks every `connectionsCheckingInterval`).
  const server = createServer({ connectionsCheckingInterval: Math.min(1_000, config.connections.headersMs) });
  server.on('clientError', answerUnparsableRequest);
  limitSlowClients(server, config.connections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const url = listeningUrl(server);
  const publicUrl = config.publicUrl ?? url;
  const metrics = new ApiMetrics();
  let stopping = false;
  const app = createApp(config, publicUrl, infra, log, { metrics, stopping: () => stopping });
  server.on('request', app);
  server.on(
    'checkContinue',
    deferContinue((req, res) => server.emit('request', req, res)),
  );
  log.info({ url, publicUrl }, 'API listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    publicUrl,
    server,
    infra,
    metrics,
    close() {
      closing ??= (async () => {
        stopping = true;
        log.info(
          { timeoutMs: config.ops.shutdownTimeoutMs },
          'shutting down: no new connections, waiting for transfers in flight',
        );
        const { cut } = await drainServer(server, config.ops.shutdownTimeoutMs);
        if (cut > 0) log.warn({ connections: cut }, 'shutdown timeout reached: connections still open were cut');
        await infra.close();
        log.info('API stopped');
      })();
      return closing;
    },
  };
}

/** Requests Node's parser refuses (over-long headers, garbage) never reach Express: answer them in the same JSON shape. */
function answerUnparsableRequest(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const body = JSON.stringify(
    errorBody(new AppError('BAD_REQUEST', tooLarge ? 'The request headers are too large.' : 'The request could not be parsed.')),
  );
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
