import type { ClientRateLimitInfo, Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { RedisHitCounter } from './redis-hit-counter.ts';

/**
 * One limiter's counters (express-rate-limit's Store): its keys under `prefix`, its hits counted by the
 * counter all limiters share. The window is the counter's: every limiter has the same (RATE_LIMIT_WINDOW).
 */
export class RedisRateStore implements Store {
  readonly prefix: string;
  readonly localKeys = false;
  readonly #counter: RedisHitCounter;
  readonly #redis: Redis;

  constructor(counter: RedisHitCounter, redis: Redis, prefix: string) {
    this.#counter = counter;
    this.#redis = redis;
    this.prefix = prefix;
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.#counter.hit(this.prefix + key);
  }

  async decrement(key: string): Promise<void> {
    await this.#redis.decr(this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await this.#redis.del(this.prefix + key);
  }
}
