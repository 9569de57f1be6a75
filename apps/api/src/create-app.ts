import express, { type Express } from 'express';
import type { Config, Logger } from '@one-time/core';
import { DownloadService, RevokeService, UploadService, type Infrastructure } from '@one-time/service';
import { downloadRoutes } from './http/download-routes.ts';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { errorHandler } from './http/errors.ts';
import { appRouter } from './trpc/router.ts';
import type { TrpcContext } from './trpc/trpc.ts';
import { rateLimiters } from './http/rate-limit.ts';
import { requestLog } from './http/request-log.ts';
import { revokeRoutes } from './http/revoke-routes.ts';
import { uploadRoutes } from './http/upload-routes.ts';
import { AppError } from '@one-time/core';

/** Wires services to routes. No I/O here: the infrastructure arrives connected. */
export function createApp(config: Config, publicUrl: string, infra: Infrastructure, log: Logger): Express {
  const uploads = new UploadService({
    files: infra.files,
    blobs: infra.blobs,
    purges: infra.purges,
    limits: config.limits,
    timing: config.timing,
    types: config.types,
    log,
  });
  const downloads = new DownloadService({
    files: infra.files,
    blobs: infra.blobs,
    purges: infra.purges,
    timing: config.timing,
    log,
  });

  const revokes = new RevokeService({ files: infra.files, purges: infra.purges, log });

  const limits = rateLimiters(config, infra.redis, log);
  const context: TrpcContext = { config, downloads, revokes, startedAt: new Date() };

  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.use(requestLog(log));
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((_req, res, next) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  app.use('/upload', limits.uploads);
  app.use('/download', limits.downloads);
  app.use('/files', limits.revokes);
  app.use('/trpc/file.info', limits.downloads);
  app.use('/trpc/file.revoke', limits.revokes);
  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: () => context,
      allowBatching: false, // one procedure per request, so the per-path rate limits hold
    }),
  );
  app.use(uploadRoutes(config, publicUrl, uploads));
  app.use(downloadRoutes(downloads, log));
  app.use(revokeRoutes(revokes));
  app.use(() => {
    throw new AppError('NOT_FOUND', 'No such endpoint.');
  });
  app.use(errorHandler(log));
  return app;
}
