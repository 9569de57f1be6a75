import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { type Config, createLogger } from '@one-time/core';
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
export async function startApi(config: Config): Promise<RunningApi> {
  const log = createLogger('api', config.logLevel);
  const infra = await connectInfrastructure(config);
  const server = createServer();
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
