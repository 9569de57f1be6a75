import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Config, type FileRecord, loadConfig } from '@one-time/core';
import { startApi, type RunningApi, type StartApiOptions } from '../../apps/api/src/start-api.ts';
import { startWorker, type RunningWorker } from '../../apps/worker/src/start-worker.ts';
import { openStoreView } from './store-view.ts';

/**
 * The two configurations every end-to-end test runs on: the embedded default (SQLite + a data folder) and
 * scale-out (MongoDB + Azure Blob, here FerretDB + Azurite). `ONE_TIME_STORES` picks one for a whole run;
 * `npm test` runs the end-to-end suite once per configuration.
 */
export type Stores = 'embedded' | 'scale-out';

export function storesUnderTest(): Stores {
  const value = process.env.ONE_TIME_STORES ?? 'embedded';
  if (value !== 'embedded' && value !== 'scale-out')
    throw new Error(`ONE_TIME_STORES must be embedded or scale-out, not ${value}`);
  return value;
}

export interface Stack {
  readonly url: string;
  readonly config: Config;
  readonly stores: Stores;
  readonly api: RunningApi;
  readonly worker: RunningWorker | undefined;
  /** Direct, test-only views of what the stores hold. */
  record(id: string): Promise<FileRecord | null>;
  recordIds(): Promise<string[]>;
  /** Rows or documents in every table or collection of this stack's metadata store. */
  recordCount(): Promise<number>;
  /** Rows or documents of one file: its record and anything kept beside it (tickets). */
  tracesOf(id: string): Promise<number>;
  /** Every blob, including what a cut-off write left behind. */
  blobNames(): Promise<string[]>;
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
  /** Force a configuration (tests of one adapter's outages); default: the one under test. */
  readonly stores?: Stores;
}

/** The variables that give a stack stores of its own: a fresh data folder, or a fresh database and container. */
export async function isolatedStoreEnv(id: string, stores: Stores): Promise<Record<string, string>> {
  if (stores === 'embedded') {
    return { METADATA_STORE: 'sqlite', BLOB_STORE: 'filesystem', DATA_DIR: await mkdtemp(join(tmpdir(), 'one-time-stack-')) };
  }
  return { METADATA_STORE: 'mongodb', BLOB_STORE: 'azure', MONGO_DB: id, AZURE_CONTAINER: id };
}

/**
 * A whole API (and worker) on the real services, isolated by fresh stores and queue prefix, listening on a
 * free loopback port. `stop()` removes everything it created.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const stores = options.stores ?? storesUnderTest();
  const config = loadConfig({
    PORT: '0',
    OPS_PORT: '0',
    QUEUE_PREFIX: id,
    LOG_LEVEL: 'silent',
    // The sweeper is the safety net behind the purge and expiry jobs; left on, it would do their work and hide
    // a broken job. Tests of the sweeper (or of faults it repairs) turn it on with SWEEP_INTERVAL.
    SWEEP_INTERVAL: '1h',
    TTL_MIN: '1s', // lifecycle tests watch files expire within seconds
    ...(await isolatedStoreEnv(id, stores)),
    ...options.env,
  });
  const logs = options.logDestination ? { logDestination: options.logDestination } : {};
  const api = await startApi(config, logs);
  const worker = options.worker === false ? undefined : await startWorker(config, logs);
  const view = await openStoreView(config);
  const redis = new Redis(config.redis.url);
  const wipeRedis = async () => {
    const keys = await redis.keys(`${id}:*`);
    if (keys.length > 0) await redis.del(...keys);
  };

  return {
    url: api.url,
    config,
    stores,
    api,
    worker,
    record: (fileId) => view.record(fileId),
    recordIds: () => view.recordIds(),
    recordCount: () => view.recordCount(),
    tracesOf: (fileId) => view.tracesOf(fileId),
    blobNames: () => view.blobNames(),
    wipeRedis,
    async stop() {
      await worker?.close();
      await api.close();
      await view.remove();
      await wipeRedis();
      redis.disconnect();
    },
  };
}

/** The variables that point another process (a child API or worker) at the same stores and queue as `config`. */
export function sameDeployment(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  const metadata: Record<string, string> =
    config.metadata.kind === 'sqlite'
      ? { METADATA_STORE: 'sqlite' }
      : { METADATA_STORE: 'mongodb', MONGO_URL: config.metadata.url, MONGO_DB: config.metadata.database };
  const blobs: Record<string, string> =
    config.blobs.kind === 'filesystem'
      ? { BLOB_STORE: 'filesystem' }
      : {
          BLOB_STORE: 'azure',
          AZURE_STORAGE_CONNECTION_STRING: config.blobs.connectionString,
          AZURE_CONTAINER: config.blobs.container,
        };
  return {
    ...metadata,
    ...blobs,
    ...(config.dataDir ? { DATA_DIR: config.dataDir.path } : {}),
    REDIS_URL: config.redis.url,
    QUEUE_PREFIX: config.redis.queuePrefix,
    ...extra,
  };
}

/** Polls until `check` passes or the time is up; returns whether it passed. */
/** No record and no blob (committed or not) of this file id remain in the stack's stores. */
export async function fileIsGone(stack: Pick<Stack, 'tracesOf' | 'blobNames'>, id: string): Promise<boolean> {
  const [traces, blobs] = await Promise.all([stack.tracesOf(id), stack.blobNames()]);
  return traces === 0 && !blobs.some((name) => name.startsWith(`${id}/`));
}

export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
