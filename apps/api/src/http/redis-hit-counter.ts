import { createHash } from 'node:crypto';
import type { ClientRateLimitInfo } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { TurnBatch } from '@one-time/core';

/**
 * Counts a hit on every key given, in fixed windows: a key that is missing or has no expiry starts a window of
 * ARGV[1] ms with 1 hit; otherwise its count goes up by one. Answers, per key in order, its hits and the ms
 * left in its window. A key may come several times: each hit is counted, in order.
 */
const COUNT_HITS = `
local answer = {}
for _, key in ipairs(KEYS) do
  local left = redis.call('PTTL', key)
  if left <= 0 then
    redis.call('SET', key, 1, 'PX', ARGV[1])
    answer[#answer + 1] = 1
    answer[#answer + 1] = tonumber(ARGV[1])
  else
    answer[#answer + 1] = redis.call('INCR', key)
    answer[#answer + 1] = left
  end
end
return answer`;
const COUNT_HITS_SHA = createHash('sha1').update(COUNT_HITS).digest('hex');

/**
 * The hit counts behind the rate limits, in Redis so that every API process and replica shares them. The
 * hits asked for during one turn of the event loop, whatever their limiter, travel as ONE script call (EVALSHA,
 * EVAL if Redis does not know the script yet, say after a restart). Why: a call per request cost the API
 * 7–12 % of its CPU on 1 KiB round trips (each its own command, socket write and reply), and ioredis's
 * auto-pipelining does not help here, since it flushes after every request's callback.
 *
 * When Redis fails or is away, every hit of the batch fails with its error (the limiter then lets the request
 * through, with a warning); the next batch tries again.
 */
export class RedisHitCounter {
  readonly #redis: Redis;
  readonly #windowMs: number;
  readonly #batch = new TurnBatch<string, ClientRateLimitInfo>((keys) => this.#countHits(keys));

  constructor(redis: Redis, windowMs: number) {
    this.#redis = redis;
    this.#windowMs = windowMs;
  }

  /** Counts one hit on `key`; resolves its hits in the current window and when that window ends. */
  hit(key: string): Promise<ClientRateLimitInfo> {
    return this.#batch.add(key);
  }

  async #countHits(keys: readonly string[]): Promise<Array<PromiseFulfilledResult<ClientRateLimitInfo>>> {
    const answer = parseAnswer(await this.#runScript(keys), keys.length);
    const now = Date.now();
    return keys.map((_key, i) => ({
      status: 'fulfilled',
      value: { totalHits: answer[2 * i]!, resetTime: new Date(now + answer[2 * i + 1]!) },
    }));
  }

  async #runScript(keys: readonly string[]): Promise<unknown> {
    const args = [keys.length, ...keys, this.#windowMs] as const;
    try {
      return await this.#redis.evalsha(COUNT_HITS_SHA, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.#redis.eval(COUNT_HITS, ...args);
    }
  }
}

function parseAnswer(reply: unknown, hits: number): number[] {
  if (!Array.isArray(reply) || reply.length !== 2 * hits || !reply.every((n) => typeof n === 'number')) {
    throw new TypeError(`Redis answered the hit count with ${JSON.stringify(reply)?.slice(0, 80)}`);
  }
  return reply;
}
