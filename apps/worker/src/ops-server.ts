import { createServer, type Server } from 'node:http';
import express from 'express';
import { AppError, type Config, type Logger } from '@one-time/core';
import { errorHandler, httpLog, listeningUrl, opsRoutes, withoutQuery } from '@one-time/ops';
import type { DependencyChecks } from '@one-time/infra';
import type { Queue } from 'bullmq';
import type { WorkerMetrics } from '@one-time/ops';
import { dashboard } from './dashboard.ts';

export interface OpsServer {
  readonly server: Server;
  readonly url: string;
}

/**
 * The worker's ops port (OPS_PORT): /healthz, /readyz, /metrics (open, since this port is internal, unless
 * METRICS_TOKEN is set) and, when enabled, the dashboard under /dashboard.
 */
export async function startOpsServer(
  config: Config,
  deps: { log: Logger; registry: WorkerMetrics['registry']; checks: DependencyChecks; queue: Queue; stopping: () => boolean },
): Promise<OpsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(httpLog(deps.log, withoutQuery));
  app.use(
    opsRoutes({
      registry: deps.registry,
      checks: deps.checks,
      metrics: config.ops.metricsToken === undefined ? 'open' : { token: config.ops.metricsToken },
      stopping: deps.stopping,
    }),
  );
  if (config.ops.dashboard.enabled) app.use(dashboard(deps.queue, config.ops.dashboard));
  app.use(() => {
    throw new AppError('NOT_FOUND', 'No such endpoint.');
  });
  app.use(errorHandler(deps.log));

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.opsPort, config.host, resolve);
  });
  return { server, url: listeningUrl(server) };
}
