import type { Config } from '@one-time/core';
import type { FileRepository } from '@one-time/db';
import { PurgeQueue, createRedis } from '@one-time/queue';
import type { BlobStore } from '@one-time/storage';
import type { Redis } from 'ioredis';
import { prepareDataDir } from './data-dir.ts';
import { openBlobStore, openFileRepository } from './open-stores.ts';

/** The stores and the queue, connected and initialised; shared by the API and the worker composition roots. */
export interface Infrastructure {
  readonly files: FileRepository;
  readonly blobs: BlobStore;
  readonly purges: PurgeQueue;
  readonly redis: Redis;
  /** One cheap round trip to each dependency, for readiness probes; each rejects if its service does not answer. */
  readonly checks: DependencyChecks;
  close(): Promise<void>;
}

/** Named by role, not by vendor: the same names whichever adapters are configured. */
export type Dependency = 'metadata' | 'blobs' | 'queue';
export type DependencyChecks = Readonly<Record<Dependency, () => Promise<void>>>;

export async function connectInfrastructure(config: Config): Promise<Infrastructure> {
  if (config.dataDir) await prepareDataDir(config.dataDir);
  const redis = createRedis(config.redis.url, 'producer');
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const files = await openFileRepository(config.metadata);
    opened.push(files);
    const blobs = await openBlobStore(config.blobs);
    await Promise.all([files.init(), blobs.init(), redis.connect()]);
    const purges = new PurgeQueue(redis, config.redis.queuePrefix);
    return {
      files,
      blobs,
      purges,
      redis,
      checks: {
        metadata: () => files.ping(),
        blobs: () => blobs.ping(),
        queue: async () => {
          await redis.ping();
        },
      },
      async close() {
        await purges.close();
        redis.disconnect();
        await files.close();
      },
    };
  } catch (error) {
    redis.disconnect();
    await Promise.allSettled(opened.map((store) => store.close()));
    throw error;
  }
}
