import express, { type Express } from 'express';
import { AppError, isAppError, type Config, type Logger } from '@one-time/core';
import type { Infrastructure } from '@one-time/infra';
import { ChunkedUploadService, DownloadService, PurgeService, RevokeService, UploadService } from '@one-time/service';
import { chunkedUploadRoutes } from './http/chunked-upload-routes.ts';
import { downloadRoutes } from './http/download-routes.ts';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { appRouter } from './trpc/router.ts';
import type { TrpcContext } from './trpc/trpc.ts';
import { rateLimiters } from './http/rate-limit.ts';
import { requestLog } from './http/request-log.ts';
import { revokeRoutes } from './http/revoke-routes.ts';
import { uploadRoutes } from './http/upload-routes.ts';
import { webRoutes } from './http/web-routes.ts';
import { errorHandler, opsRoutes, type ApiMetrics } from '@one-time/ops';
import { countRejects, operationMetrics, reasonOf } from './http/operation-metrics.ts';
import { continueUnlessUpload } from './http/expect-continue.ts';
import { uploadsInFlight } from './http/slow-clients.ts';
import { ROUTES, routeOf } from './http/route-table.ts';

export interface AppOps {
  readonly metrics: ApiMetrics;
  /** True once shutdown began (`/readyz` answers 503). */
  readonly stopping: () => boolean;
}

/** Wires services to routes. No I/O here: the infrastructure arrives connected. */
export function createApp(config: Config, publicUrl: string, infra: Infrastructure, log: Logger, ops: AppOps): Express {
  const uploadDeps = {
    files: infra.files,
    blobs: infra.blobs,
    purges: infra.purges,
    limits: config.limits,
    timing: config.timing,
    types: config.types,
    log,
    metrics: ops.metrics,
  };
  const uploads = new UploadService(uploadDeps);
  const chunked = new ChunkedUploadService(uploadDeps);
  const downloads = new DownloadService({
    files: infra.files,
    blobs: infra.blobs,
    purges: infra.purges,
    purger: new PurgeService({ files: infra.files, blobs: infra.blobs, metrics: ops.metrics, jobs: infra.purges, log }),
    timing: config.timing,
    log,
  });

  const revokes = new RevokeService({ files: infra.files, purges: infra.purges, log });

  const limits = rateLimiters(config, infra.redis, log);
  const context: TrpcContext = { config, downloads, revokes, startedAt: new Date() };

  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.use(requestLog(log));
  app.use(operationMetrics(ops.metrics));
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((_req, res, next) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    // Every answer, JSON, errors and assets included: a browser must never guess a type from the bytes.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  // Probes and the scraper: not rate limited. /metrics needs METRICS_TOKEN here (this is the public port) and
  // is not served at all without one.
  app.use(
    opsRoutes({
      registry: ops.metrics.registry,
      checks: infra.checks,
      metrics: config.ops.metricsToken === undefined ? 'off' : { token: config.ops.metricsToken },
      stopping: ops.stopping,
    }),
  );
  app.use(continueUnlessUpload());
  for (const route of ROUTES) {
    if (route.limit === 'none') continue;
    const limiter = limits[route.limit];
    // `exact`: only requests to the mount path itself count (creating a chunked upload, not its chunks).
    app.use(route.path, route.exact ? (req, res, next) => (req.path === '/' ? limiter(req, res, next) : next()) : limiter);
  }
  app.use('/upload', uploadsInFlight(config.connections.uploadsPerClient));
  // Answers name files and sizes: no cache may keep them.
  app.use('/trpc', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: () => context,
      allowBatching: false, // one procedure per request, so the per-path rate limits hold
      onError: ({ error, path }) => {
        const operation = routeOf(`/trpc/${path ?? ''}`)?.operation?.name ?? 'other';
        ops.metrics.rejected(operation, isAppError(error.cause) ? reasonOf(error.cause) : trpcReason(error.code));
      },
    }),
  );
  app.use(uploadRoutes(config, publicUrl, uploads));
  app.use(chunkedUploadRoutes(config, publicUrl, chunked));
  app.use(downloadRoutes(downloads, log, (bytes) => ops.metrics.bytesOut(bytes)));
  app.use(revokeRoutes(revokes));
  app.use(webRoutes(log, publicUrl));
  app.use(() => {
    throw new AppError('NOT_FOUND', 'No such endpoint.');
  });
  app.use(countRejects(ops.metrics));
  app.use(errorHandler(log));
  return app;
}

/** tRPC's own refusals (bad input, unknown procedure) in the error table's words. */
function trpcReason(code: string): string {
  if (code === 'INTERNAL_SERVER_ERROR') return 'INTERNAL';
  return code === 'NOT_FOUND' ? 'NOT_FOUND' : 'BAD_REQUEST';
}
