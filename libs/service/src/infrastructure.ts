import type { Config } from '@one-time/core';
import { MongoFileRepository, connectMongo, type FileRepository } from '@one-time/db';
import { PurgeQueue, createRedis } from '@one-time/queue';
import { AzureBlobStore, type BlobStore } from '@one-time/storage';
import type { Redis } from 'ioredis';

/** The real adapters, connected and initialised; shared by the API and the worker composition roots. */
export interface Infrastructure {
  readonly files: FileRepository;
  readonly blobs: BlobStore;
  readonly purges: PurgeQueue;
  readonly redis: Redis;
  /** One cheap round trip to each dependency, for readiness probes; each rejects if its service does not answer. */
  readonly checks: DependencyChecks;
  close(): Promise<void>;
}

export type Dependency = 'mongodb' | 'redis' | 'storage';
export type DependencyChecks = Readonly<Record<Dependency, () => Promise<void>>>;

export async function connectInfrastructure(config: Config): Promise<Infrastructure> {
  const mongo = await connectMongo(config.mongo.url);
  const files = new MongoFileRepository(mongo.client.db(config.mongo.database));
  const blobs = new AzureBlobStore({ connectionString: config.azure.connectionString, container: config.azure.container });
  const redis = createRedis(config.redis.url, 'producer');
  try {
    await Promise.all([files.init(), blobs.init(), redis.connect()]);
  } catch (error) {
    redis.disconnect();
    await mongo.close();
    throw error;
  }
  const purges = new PurgeQueue(redis, config.redis.queuePrefix);
  return {
    files,
    blobs,
    purges,
    redis,
    checks: {
      mongodb: async () => {
        await mongo.client.db(config.mongo.database).command({ ping: 1 });
      },
      redis: async () => {
        await redis.ping();
      },
      storage: () => blobs.ping(),
    },
    async close() {
      await purges.close();
      redis.disconnect();
      await mongo.close();
    },
  };
}
