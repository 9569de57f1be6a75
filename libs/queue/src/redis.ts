import { Redis } from 'ioredis';

/**
 * BullMQ workers need `maxRetriesPerRequest: null` (blocking commands); producers fail fast instead, so a
 * Redis outage never stalls a user's request.
 */
export function createRedis(url: string, role: 'producer' | 'worker'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    // Producers connect explicitly (see `connectInfrastructure`), so start-up fails loudly if Redis is down.
    lazyConnect: role === 'producer',
  });
}
