import { randomBytes } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { MongoClient, type Collection } from 'mongodb';
import { Redis } from 'ioredis';
import { type Config, type FileRecord, loadConfig } from '@one-time/core';
import { FILES_COLLECTION } from '@one-time/db';
import { startApi, type RunningApi, type StartApiOptions } from '../../apps/api/src/start-api.ts';
import { startWorker, type RunningWorker } from '../../apps/worker/src/start-worker.ts';

export interface Stack {
  readonly url: string;
  readonly config: Config;
  readonly api: RunningApi;
  readonly worker: RunningWorker | undefined;
  /** Direct, test-only views of what the services hold. */
  readonly records: Collection<FileRecord>;
  blobNames(options?: { includeUncommitted?: boolean }): Promise<string[]>;
  /** Documents in every collection of this stack's database. */
  recordCount(): Promise<number>;
  /** Deletes every Redis key of this stack's queue prefix: what a Redis restart does. */
  wipeRedis(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly env?: Record<string, string>;
  /** Start the worker too (default true). */
  readonly worker?: boolean;
  /** Capture the API's (and the worker's) log lines. */
  readonly logDestination?: StartApiOptions['logDestination'];
}

/**
 * A whole API (and worker) on the real services, isolated by a fresh database, container and queue prefix,
 * listening on a free loopback port. `stop()` removes everything it created.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    PORT: '0',
    OPS_PORT: '0',
    MONGO_DB: id,
    QUEUE_PREFIX: id,
    AZURE_CONTAINER: id,
    LOG_LEVEL: 'silent',
    SWEEP_INTERVAL: '1s',
    ...options.env,
  });
  const api = await startApi(config, options.logDestination ? { logDestination: options.logDestination } : {});
  const worker =
    options.worker === false
      ? undefined
      : await startWorker(config, options.logDestination ? { logDestination: options.logDestination } : {});
  const url = api.url;
  const mongo = await MongoClient.connect(config.mongo.url);
  const records = mongo.db(config.mongo.database).collection<FileRecord>(FILES_COLLECTION);
  const container = BlobServiceClient.fromConnectionString(config.azure.connectionString).getContainerClient(
    config.azure.container,
  );
  const redis = new Redis(config.redis.url);

  return {
    url,
    config,
    api,
    worker,
    records,
    async blobNames({ includeUncommitted = true } = {}) {
      const names: string[] = [];
      for await (const blob of container.listBlobsFlat({ includeUncommitedBlobs: includeUncommitted })) names.push(blob.name);
      return names;
    },
    async recordCount() {
      const db = mongo.db(config.mongo.database);
      const counts = await Promise.all(
        (await db.listCollections().toArray()).map((c) => db.collection(c.name).countDocuments({})),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    },
    async wipeRedis() {
      const keys = await redis.keys(`${id}:*`);
      if (keys.length > 0) await redis.del(...keys);
    },
    async stop() {
      await worker?.close();
      await api.close();
      await mongo.db(config.mongo.database).dropDatabase();
      await mongo.close();
      await container.deleteIfExists();
      const keys = await redis.keys(`${id}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

/** Polls until `check` passes or the time is up; returns whether it passed. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
