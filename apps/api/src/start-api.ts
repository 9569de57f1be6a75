import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { AppError, type Config, type DestinationStream, createLogger, errorBody } from '@one-time/core';
import type { Duplex } from 'node:stream';
import { connectInfrastructure, type Infrastructure } from '@one-time/service';
import { createApp } from './create-app.ts';

export interface RunningApi {
  readonly url: string;
  /** The base of the links handed out. */
  readonly publicUrl: string;
  readonly server: Server;
  readonly infra: Infrastructure;
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
  const server = createServer();
  server.on('clientError', answerUnparsableRequest);
  server.requestTimeout = 0; // large transfers may take long; idle sockets are bounded by headersTimeout/keepAlive
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const publicUrl = config.publicUrl ?? url;
  server.on('request', createApp(config, publicUrl, infra, log));
  return {
    url,
    publicUrl,
    server,
    infra,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await infra.close();
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
