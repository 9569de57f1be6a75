import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A registry of the process's own (not prom-client's global one, so an API and a worker started in one process,
 * as the tests do, keep their metrics apart), with the usual Node process metrics.
 */
export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Durations from 10 ms to 30 min: uploads and downloads run from tiny files to gigabytes. */
export const TRANSFER_SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
