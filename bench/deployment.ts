/**
 * One isolated deployment of either configuration: its own stores (a fresh data folder, or a fresh database and
 * container), its own queue prefix, the API and worker as child processes on them, and the same stores opened in
 * this process through the ports. `remove()` takes all of it away again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { AZURITE_DEV_CONNECTION_STRING, loadConfig, type Config } from '@one-time/core';
import type { FileRepository } from '@one-time/db';
import { openBlobStore, openFileRepository } from '@one-time/infra';
import type { BlobStore } from '@one-time/storage';
import { printed, progress, spawnService, stopService, type Service } from './support.ts';

export type Stores = 'embedded' | 'scale-out';

const MONGO_URL = 'mongodb://127.0.0.1:27017';
const REDIS_URL = 'redis://127.0.0.1:6379';

export interface Stack {
  readonly api: Service;
  readonly url: string;
  readonly worker: Service;
}

export interface OpenedStores {
  readonly files: FileRepository;
  readonly blobs: BlobStore;
}

export interface Deployment {
  readonly stores: Stores;
  readonly id: string;
  readonly config: Config;
  /** The data folder (embedded only). */
  readonly dataDir: string | undefined;
  /** Starts the API and the worker as child processes; at most one stack at a time. */
  start(): Promise<Stack>;
  stop(): Promise<void>;
  /** The deployment's stores, opened (and initialised) in this process; cached until `remove`. */
  open(): Promise<OpenedStores>;
  /** Stops the processes, closes the stores and deletes everything: folder, database, container, Redis keys. */
  remove(): Promise<void>;
}

/** `overrides`: more variables for the API and the worker (they win over the bench's own). */
export async function createDeployment(
  stores: Stores,
  label: string,
  overrides: Record<string, string> = {},
): Promise<Deployment> {
  const id = `bench${Date.now().toString(36)}${randomBytes(3).toString('hex')}${label}`;
  const dataDir = stores === 'embedded' ? await mkdtemp(join(tmpdir(), `one-time-bench-${label}-`)) : undefined;
  const storeEnv: Record<string, string> = dataDir
    ? { METADATA_STORE: 'sqlite', BLOB_STORE: 'filesystem', DATA_DIR: dataDir }
    : {
        METADATA_STORE: 'mongodb',
        MONGO_URL,
        MONGO_DB: id,
        BLOB_STORE: 'azure',
        AZURE_STORAGE_CONNECTION_STRING: AZURITE_DEV_CONNECTION_STRING,
        AZURE_CONTAINER: id,
      };
  const env: Record<string, string> = {
    ...storeEnv,
    HOST: '127.0.0.1',
    PORT: '0', // the kernel picks a free port; the API prints the address it got
    OPS_PORT: '0',
    REDIS_URL,
    QUEUE_PREFIX: id,
    MAX_UPLOAD_SIZE: '64GiB',
    LOG_LEVEL: 'warn',
    // One client on one address: the benchmark measures the service, not the rate limiter.
    RATE_LIMIT_UPLOADS: '1000000',
    RATE_LIMIT_DOWNLOADS: '1000000',
    RATE_LIMIT_REVOKES: '1000000',
    UPLOADS_IN_FLIGHT_PER_CLIENT: '1000000',
    // The expiry-lag probes upload files that expire after 2 s.
    TTL_MIN: '1s',
    ...overrides,
  };
  const config = loadConfig(env);
  let running: { api: Service; worker: Service } | undefined;
  let opened: Promise<OpenedStores> | undefined;
  let removing: Promise<void> | undefined;

  const deployment: Deployment = {
    stores,
    id,
    config,
    dataDir,
    async start() {
      if (running) throw new Error('the API and worker already run on this deployment');
      const childEnv = childEnvironment(env);
      const api = spawnService('api', childEnv);
      const worker = spawnService('worker', childEnv);
      running = { api, worker };
      const [listening] = await Promise.all([printed(api, /listening on (http:\/\/\S+) \(/), printed(worker, /worker running/)]);
      const url = listening[1] ?? '';
      progress(`${stores}: API ${url} (pid ${api.pid}), worker pid ${worker.pid}, deployment ${id}`);
      return { api, worker, url };
    },
    async stop() {
      if (!running) return;
      const { api, worker } = running;
      running = undefined;
      await Promise.all([stopService(api), stopService(worker)]);
    },
    open() {
      opened ??= (async () => {
        const files = await openFileRepository(config.metadata);
        const blobs = await openBlobStore(config.blobs);
        await Promise.all([files.init(), blobs.init()]);
        return { files, blobs };
      })();
      return opened;
    },
    remove() {
      removing ??= removeAll();
      return removing;
    },
  };
  const removeAll = async () => {
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['stop the processes', () => deployment.stop()],
      ['close the stores', async () => (opened ? (await opened).files.close() : undefined)],
      ['delete the data folder', () => (dataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve())],
      ['drop the database', () => (dataDir ? Promise.resolve() : dropDatabase(id))],
      ['delete the container', () => (dataDir ? Promise.resolve() : deleteContainer(id))],
      ['delete the Redis keys', () => deleteRedisKeys(`${id}:*`)],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`bench: could not ${what} of ${id}: ${String(error)}\n`);
      }
    }
  };
  return deployment;
}

/** This process's environment minus anything that configures the apps, plus the deployment's variables. */
function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'LANG', 'TMPDIR', 'NODE_OPTIONS'].includes(name)),
  );
  return { ...inherited, ...env };
}

async function dropDatabase(name: string): Promise<void> {
  const mongo = await MongoClient.connect(MONGO_URL, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 60_000 });
  try {
    await mongo.db(name).dropDatabase();
  } finally {
    await mongo.close();
  }
}

async function deleteContainer(name: string): Promise<void> {
  await BlobServiceClient.fromConnectionString(AZURITE_DEV_CONNECTION_STRING)
    .getContainerClient(name)
    .deleteIfExists({ abortSignal: AbortSignal.timeout(60_000) });
}

/** CPU seconds the Redis server has used since it started (it serves the queue of both configurations). */
export async function redisCpuSeconds(): Promise<number> {
  const redis = new Redis(REDIS_URL, { connectTimeout: 10_000, commandTimeout: 10_000, maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return field('used_cpu_sys') + field('used_cpu_user');
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { connectTimeout: 10_000, commandTimeout: 10_000, maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
