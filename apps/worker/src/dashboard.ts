import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { AppError, type Config } from '@one-time/core';
import { requireCredentials } from '@one-time/ops';

export const DASHBOARD_PATH = '/dashboard';

/**
 * Mutations the dashboard may make when DASHBOARD_ACTIONS is on: retry and clean (one job, or every job in a
 * state). Adding jobs, editing their data, pausing, emptying or obliterating the queue stay refused even then.
 */
const ALLOWED_ACTIONS = [/^\/api\/queues\/[^/]+\/(retry|clean)\/[a-z]+$/, /^\/api\/queues\/[^/]+\/[^/]+\/(retry|clean)$/];

/**
 * bull-board on the purge queue, which also carries the sweeper's and the reconciler's scheduled runs (their
 * reports are the jobs' return values). Job payloads hold file ids (one-way hashes) and reasons, never a code.
 * Behind basic auth or a bearer token; read-only unless DASHBOARD_ACTIONS is on.
 */
export function dashboard(queue: Queue, options: Config['ops']['dashboard']): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [
      new BullMQAdapter(queue, {
        readOnlyMode: !options.actions,
        allowRetries: options.actions,
        displayName: 'purge',
        description: 'purge-file jobs (expiry, after the last download, after a revoke); sweep and reconcile runs',
      }),
    ],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'one-time worker' } },
  });
  const router = Router();
  router.use(
    DASHBOARD_PATH,
    requireCredentials({ token: options.token, basic: options.basic }, 'one-time dashboard'),
    onlyAllowedActions(options.actions),
    serverAdapter.getRouter() as RequestHandler,
  );
  return router;
}

/** bull-board refuses mutations in read-only mode itself; this refuses them before they reach it, too. */
function onlyAllowedActions(actions: boolean): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    if (actions && req.method === 'PUT' && ALLOWED_ACTIONS.some((pattern) => pattern.test(req.path))) return next();
    next(
      new AppError(
        'FORBIDDEN',
        actions ? 'Only retry and clean are allowed from the dashboard.' : 'The dashboard is read-only (DASHBOARD_ACTIONS).',
      ),
    );
  };
}
