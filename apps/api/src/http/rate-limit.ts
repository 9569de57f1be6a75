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

/**
 * Per-client-IP limits, counted in Redis so every API replica shares them. Over the limit: 429 through the
 * one error path (with Retry-After). If Redis cannot be reached the request goes through: an outage of the
 * counter must not take the service down with it.
 */
export function rateLimiters(config: Config, redis: Redis, log: Log): RateLimiters {
  const limiter = (name: string, limit: number): RequestHandler =>
    rateLimit({
      windowMs: config.rateLimits.windowMs,
      limit,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      passOnStoreError: true,
      store: new RedisStore({
        prefix: `${config.redis.queuePrefix}:rate:${name}:`,
        sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
      }),
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
  return {
    uploads: limiter('upload', config.rateLimits.uploads),
    downloads: limiter('download', config.rateLimits.downloads),
    revokes: limiter('revoke', config.rateLimits.revokes),
  };
}
