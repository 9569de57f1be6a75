import { Redis } from 'ioredis';

/**
 * Every key under a prefix with its whole value as text, whatever the key's type (strings, hashes, lists, sets,
 * sorted sets, streams), so a test can search what Redis holds.
 */
export async function redisDump(url: string, prefix: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    const parts = await Promise.all(keys.map(async (key) => `${key} ${await valueOf(redis, key)}`));
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

async function valueOf(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return (await redis.lrange(key, 0, -1)).join(' ');
    case 'set':
      return (await redis.smembers(key)).join(' ');
    case 'zset':
      return (await redis.zrange(key, 0, -1)).join(' ');
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return `(${type})`;
  }
}
