/** What every benchmark section shares: loopback HTTP, the API and worker as child processes, memory, clean-up. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ContainerClient } from '@azure/storage-blob';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { AZURITE_DEV_CONNECTION_STRING } from '@one-time/core';

export const MiB = 1024 * 1024;
export const MONGO_URL = 'mongodb://127.0.0.1:27017';
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const SAMPLE_MS = 50;
const STALL_TIMEOUT_MS = 60_000; // a request whose socket sees no traffic for this long fails
const START_TIMEOUT_MS = 30_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));

export type Service = ChildProcessByStdio<null, Readable, null> & { readonly pid: number };

export interface Timed<T> {
  readonly value: T;
  readonly seconds: number;
}

export const mib = (bytes: number): number => bytes / MiB;

export async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

// --------------------------------------------------------------------------------------------------- http ---

/** Sends a request (streaming `body`, if any) to 127.0.0.1 and resolves once the response headers arrive. */
export function send(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body?: Readable,
): Promise<IncomingMessage> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to send to ${url}: loopback only`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: STALL_TIMEOUT_MS });
    req.once('timeout', () => req.destroy(new Error(`${method} ${url}: no traffic for ${STALL_TIMEOUT_MS / 1000}s`)));
    req.once('error', reject);
    req.once('response', resolve);
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

export async function readText(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

// -------------------------------------------------------------------------------------------- api process ---

/** The API or the worker as its own process, on this run's database, container and queue prefix. */
export function spawnService(app: 'api' | 'worker', id: string, extraEnv: Record<string, string> = {}): Service {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0', // the kernel picks a free port; the API prints the address it got
    MONGO_URL,
    MONGO_DB: id,
    REDIS_URL,
    QUEUE_PREFIX: id,
    AZURE_STORAGE_CONNECTION_STRING: AZURITE_DEV_CONNECTION_STRING,
    AZURE_CONTAINER: id,
    MAX_UPLOAD_SIZE: '4GiB',
    LOG_LEVEL: 'warn',
    OPS_PORT: '0',
    // One client on one address: the benchmark measures the service, not the rate limiter.
    RATE_LIMIT_UPLOADS: '100000000',
    RATE_LIMIT_DOWNLOADS: '100000000',
    RATE_LIMIT_REVOKES: '100000000',
    ...extraEnv,
  };
  delete env.PUBLIC_URL;
  const child = spawn(process.execPath, ['--max-semi-space-size=4', `apps/${app}/src/main.ts`], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.pid === undefined) throw new Error(`could not start the ${app} process`);
  return child as Service;
}

/** Resolves with the URL the API prints once it listens. */
export async function listeningUrl(api: Service): Promise<string> {
  const match = await printed(api, /listening on (http:\/\/\S+)/);
  return match[1] ?? '';
}

export async function stopService(api: Service): Promise<void> {
  if (api.exitCode !== null || api.signalCode !== null) return;
  const exited = once(api, 'exit');
  api.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(10_000, false, { ref: false })]);
  if (!stopped) {
    process.stderr.write('bench: the API ignored SIGTERM for 10s; sending SIGKILL\n');
    api.kill('SIGKILL');
    await exited;
  }
}

/** VmRSS and VmHWM (lifetime high-water mark) of a process, in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Runs `work` while sampling the process's VmRSS every 50 ms; returns its result and the peak seen. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; peakRss: number }> {
  let peakRss = memory(pid).rss;
  const sample = () => {
    try {
      peakRss = Math.max(peakRss, memory(pid).rss);
    } catch {
      // the process is gone: `work` fails and says so
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  try {
    const value = await work();
    sample();
    return { value, peakRss };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------------------------------------- cleanup ---

/** Removes what the run created: the database, the container and the queue's Redis keys. */
export async function removeData(id: string, container: ContainerClient): Promise<void> {
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['drop Mongo database', () => dropDatabase(id)],
    ['delete container', () => container.deleteIfExists({ abortSignal: AbortSignal.timeout(30_000) })],
    ['delete Redis keys', () => deleteRedisKeys(`${id}:*`)],
  ];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      process.stderr.write(`bench: could not ${what} ${id}: ${String(error)}\n`);
    }
  }
}

async function dropDatabase(name: string): Promise<void> {
  const mongo = await MongoClient.connect(MONGO_URL, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 30_000 });
  try {
    await mongo.db(name).dropDatabase();
  } finally {
    await mongo.close();
  }
}

async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { connectTimeout: 10_000, commandTimeout: 10_000, maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Resolves once a process prints a line matching `ready` (its output goes on to stderr, away from the tables). */
export function printed(service: Service, ready: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${String(ready)} within ${START_TIMEOUT_MS / 1000}s`)), START_TIMEOUT_MS);
    service.stdout.on('data', (data: Buffer) => {
      process.stderr.write(data);
      seen += data.toString('utf8');
      const match = ready.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    service.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the process exited (${code ?? signal}) before it was ready`));
    });
  });
}

/** The p-th percentile (0–100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Runs `work` for each item with at most `limit` in flight. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
