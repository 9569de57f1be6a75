import { Router } from 'express';
import type { Registry } from 'prom-client';
import { requireCredentials } from './credentials.ts';
import { checkReadiness } from './readiness.ts';

export interface OpsRoutesOptions {
  readonly registry: Registry;
  /** One cheap call per dependency (`metadata`, `blobs`, `queue`). */
  readonly checks: Readonly<Record<string, () => Promise<void>>>;
  /**
   * `/metrics` access: `open` (an internal port), a bearer token, or `off` (not served: a public port with no
   * token configured).
   */
  readonly metrics: 'open' | 'off' | { readonly token: string };
  /** True once shutdown began: `/readyz` answers 503 so load balancers stop sending traffic. */
  readonly stopping: () => boolean;
}

/**
 * `GET /healthz` (the process answers: 200, no dependency consulted, so a database outage does not get every
 * replica restarted), `GET /readyz` (200 when MongoDB, Redis and storage answer; else 503 naming what is down)
 * and `GET /metrics` (Prometheus text format).
 */
export function opsRoutes(options: OpsRoutesOptions): Router {
  const router = Router();
  const noStore = { 'Cache-Control': 'no-store' };

  router.get('/healthz', (_req, res) => {
    res.set(noStore).json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    if (options.stopping()) {
      res.status(503).set(noStore).json({ status: 'stopping', down: [], checks: {} });
      return;
    }
    const readiness = await checkReadiness(options.checks);
    res
      .status(readiness.ready ? 200 : 503)
      .set(noStore)
      .json({ status: readiness.ready ? 'ready' : 'unavailable', down: readiness.down, checks: readiness.checks });
  });

  if (options.metrics !== 'off') {
    const guard = options.metrics === 'open' ? [] : [requireCredentials({ token: options.metrics.token }, 'one-time metrics')];
    router.get('/metrics', ...guard, async (_req, res) => {
      const body = await options.registry.metrics();
      res.set(noStore).type(options.registry.contentType).send(body);
    });
  }
  return router;
}
