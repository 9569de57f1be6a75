import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import { AppError, type Config } from '@one-time/core';
import type { Log } from '@one-time/service';

export interface RateLimiters {
  readonly uploads: RequestHandler;
  readonly downloads: RequestHandler;
  readonly revokes: RequestHandler;
}

/** A SHA no script has: EVALSHA answers NOSCRIPT, and rate-limit-redis loads its script again. */
const UNKNOWN_SCRIPT_SHA = '0'.repeat(40);
/** While Redis is away every request would warn; one warning per limiter and this interval is enough. */
const STORE_WARNING_INTERVAL_MS = 10_000;

/**
 * rate-limit-redis keeps the promise of its counting script's SHA. A load that failed (Redis away at that
 * moment) would be awaited, and fail, by every later count, disabling the limit for good; forget it instead.
 */
class ReloadingRedisStore extends RedisStore {
  override loadIncrementScript(key?: string): Promise<string> {
    const loading = super.loadIncrementScript(key);
    loading.catch(() => {
      if (this.incrementScriptSha === loading) this.incrementScriptSha = Promise.resolve(UNKNOWN_SCRIPT_SHA);
    });
    return loading;
  }
}

/**
 * Per-client-IP limits, counted in Redis (keys under the queue prefix) so every API replica shares them. Over
 * the limit: 429 through the one error path, with Retry-After. If Redis cannot be reached the request goes
 * through with a warning: an outage of the counter must not take the service down with it.
 */
export function rateLimiters(config: Config, redis: Redis, log: Log): RateLimiters {
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
      store: new ReloadingRedisStore({
        prefix: `${config.redis.queuePrefix}:rate:${name}:`,
        // ioredis sends any command through `call`; the producer connection fails at once while Redis is away.
        sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
      }),
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
