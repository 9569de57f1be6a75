import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { createLogger } from '@one-time/core';
import { ApiMetrics } from '@one-time/ops';
import { createApp } from '../src/create-app.ts';
import { ROUTES, routeOf } from '../src/http/route-table.ts';
import { redactUrl } from '../src/http/request-log.ts';
import { startStack, type Stack } from '../../../test/support/stack.ts';

let stack: Stack;
let app: Express;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  app = createApp(stack.config, stack.url, stack.api.infra, createLogger('api', 'silent'), {
    metrics: new ApiMetrics(),
    stopping: () => false,
  });
});
afterAll(async () => {
  await stack?.stop();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route the Express app serves, with its methods, found by walking its router stack. */
function servedRoutes(layers: readonly Layer[]): Array<{ path: string; methods: string[] }> {
  return layers.flatMap((layer) => {
    if (layer.route) return [{ path: layer.route.path, methods: Object.keys(layer.route.methods).map((m) => m.toUpperCase()) }];
    return layer.handle?.stack ? servedRoutes(layer.handle.stack) : [];
  });
}

describe('the route table', () => {
  const routes = () => servedRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack);
  const SECRET = 'Xq3SecretCodeSecretCod';

  it('has an entry for every route the app serves', () => {
    expect(routes().length).toBeGreaterThan(8);
    for (const { path } of routes()) expect(routeOf(path.replace(/:\w+/g, SECRET)), path).toBeDefined();
  });

  it('limits every route that stores, consumes or revokes something', () => {
    for (const { path, methods } of routes()) {
      const entry = routeOf(path.replace(/:\w+/g, SECRET))!;
      if (methods.some((method) => ['POST', 'PUT', 'DELETE'].includes(method)) && !path.startsWith('/trpc')) {
        expect(entry.limit, path).not.toBe('none');
      }
    }
    expect(ROUTES.filter((entry) => entry.operation).every((entry) => entry.limit !== 'none')).toBe(true);
  });

  it('never logs the parameters of any route', () => {
    for (const { path } of routes()) {
      const concrete = path.replace(/:\w+/g, SECRET);
      expect(redactUrl(`${concrete}?code=${SECRET}`), path).not.toContain(SECRET);
    }
  });
});
