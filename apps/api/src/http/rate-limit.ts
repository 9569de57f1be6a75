import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { AppError, type Config } from '@one-time/core';
import type { Log } from '@one-time/service';
import { RedisHitCounter } from './redis-hit-counter.ts';
import { RedisRateStore } from './redis-rate-store.ts';

export interface RateLimiters {
  readonly uploads: RequestHandler;
  readonly downloads: RequestHandler;
  readonly revokes: RequestHandler;
}

/** While Redis is away every request would warn; one warning per limiter and this interval is enough. */
const STORE_WARNING_INTERVAL_MS = 10_000;

/**
 * Per-client-IP limits, counted in Redis (keys under the queue prefix) so every API replica shares them. Over
 * the limit: 429 through the one error path, with Retry-After. If Redis cannot be reached the request goes
 * through with a warning: an outage of the counter must not take the service down with it.
 */
export function rateLimiters(config: Config, redis: Redis, log: Log): RateLimiters {
  const counter = new RedisHitCounter(redis, config.rateLimits.windowMs);
  const limiter = (name: string, limit: number): RequestHandler => {
    let lastStoreWarning = 0;
    return rateLimit({
      windowMs: config.rateLimits.windowMs,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      passOnStoreError: true,
      // A CORS preflight asks for nothing; it must not use up a client's uploads.
      skip: (req) => req.method === 'OPTIONS',
      // The producer connection fails at once while Redis is away, so a request never waits for it.
      store: new RedisRateStore(counter, redis, `${config.redis.queuePrefix}:rate:${name}:`),
      logger: {
        warn: (error) => log.warn({ err: error, limiter: name }, 'rate limiter warning'),
        // Runtime store failures come with a message; misconfigurations found by the library's checks do not.
        error: (error, message) => {
          if (message === undefined) {
            log.error({ err: error, limiter: name }, 'rate limiter misconfigured');
          } else if (Date.now() - lastStoreWarning >= STORE_WARNING_INTERVAL_MS) {
            lastStoreWarning = Date.now();
            log.warn({ err: error, limiter: name }, 'rate limit store unavailable: requests pass unlimited');
          }
        },
      },
      handler: (req, _res, next) => {
        const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const retryAfterSeconds = Math.max(
          1,
          Math.ceil(((resetTime?.getTime() ?? Date.now() + config.rateLimits.windowMs) - Date.now()) / 1000),
        );
        log.warn({ limiter: name }, 'rate limit reached');
        next(new AppError('RATE_LIMITED', undefined, { details: { retryAfterSeconds } }));
      },
    });
  };
  return {
    uploads: limiter('upload', config.rateLimits.uploads),
    downloads: limiter('download', config.rateLimits.downloads),
    revokes: limiter('revoke', config.rateLimits.revokes),
  };
}
