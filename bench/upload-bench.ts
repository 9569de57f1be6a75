/**
 * Upload/download benchmark: the API, run as its own process (`node apps/api/src/main.ts`), against the ceiling
 * of talking to Azurite directly, and the API's memory while it streams. `npm run bench` measures 100 MiB and
 * 1 GiB; `-- --quick` measures 10 and 100 MiB; `-- --sizes 100,1024` takes sizes in MiB.
 *
 * Prints a markdown table to stdout (progress goes to stderr) and writes every raw figure to bench/results.json.
 * Exits non-zero only when a download does not hash to what was uploaded (or the run itself fails). Everything it
 * creates (database, container, queue keys, the API process) is removed at the end.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { AZURITE_DEV_CONNECTION_STRING } from '@one-time/core';
import { encryptStream } from '@one-time/crypto';

const MiB = 1024 * 1024;
const MONGO_URL = 'mongodb://127.0.0.1:27017';
const REDIS_URL = 'redis://127.0.0.1:6379';
const BLOCK_SIZE = 2 * MiB; // direct upload: the same block size and concurrency as the API's AzureBlobStore
const CONCURRENCY = 4;
const SAMPLE_MS = 50;
const RSS_BUDGET_MiB = 64; // target: peak RSS ≤ idle + this, during upload and during download
const SIZE_SPREAD_MiB = 16; // target: peak RSS the same for every size, within this
const TOTAL_TIMEOUT_MS = 10 * 60_000;
const STALL_TIMEOUT_MS = 60_000; // a request whose socket sees no traffic for this long fails
const START_TIMEOUT_MS = 30_000;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));

type Api = ChildProcessByStdio<null, Readable, null> & { readonly pid: number };

/** Deterministic pseudo-random bytes, made on the fly and never held whole in memory. */
interface Content {
  readonly size: number;
  /** A random 1 MiB block; each MiB sent is a copy with its first 8 bytes replaced by a counter. */
  readonly seed: Buffer;
}

interface Timed<T> {
  readonly value: T;
  readonly seconds: number;
}

interface Hashed {
  readonly sha256: string;
  readonly bytes: number;
}

interface Row {
  readonly sizeMiB: number;
  readonly sha256: string;
  readonly hashOk: boolean;
  readonly rssBeforeMiB: number;
  readonly api: {
    readonly uploadSeconds: number;
    readonly uploadMiBs: number;
    readonly downloadSeconds: number;
    readonly downloadMiBs: number;
    readonly peakRssUploadMiB: number;
    readonly peakRssDownloadMiB: number;
    readonly hwmAfterUploadMiB: number;
    readonly hwmAfterDownloadMiB: number;
  };
  readonly direct: {
    readonly uploadSeconds: number;
    readonly uploadMiBs: number;
    readonly downloadSeconds: number;
    readonly downloadMiBs: number;
  };
  readonly uploadRatio: number;
  readonly downloadRatio: number;
}

// ------------------------------------------------------------------------------------------------ content ---

function* chunks(content: Content): Generator<Buffer> {
  let counter = 0n;
  for (let sent = 0; sent < content.size;) {
    const chunk = Buffer.from(content.seed.subarray(0, Math.min(content.seed.length, content.size - sent)));
    if (chunk.length >= 8) chunk.writeBigUInt64BE(counter++, 0);
    sent += chunk.length;
    yield chunk;
  }
}

function contentStream(content: Content): Readable {
  return Readable.from(chunks(content), { objectMode: false });
}

function contentHash(content: Content): string {
  const hash = createHash('sha256');
  for (const chunk of chunks(content)) hash.update(chunk);
  return hash.digest('hex');
}

/** One file in a multipart/form-data body of known length, as `curl -F file=@...` sends it. */
function multipartBody(content: Content): { body: Readable; contentType: string; length: number } {
  const boundary = `----one-time-bench-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench-${content.size}.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  function* parts(): Generator<Buffer> {
    yield head;
    yield* chunks(content);
    yield tail;
  }
  return {
    body: Readable.from(parts(), { objectMode: false }),
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + content.size + tail.length,
  };
}

async function hashStream(stream: AsyncIterable<Uint8Array | string>): Promise<Hashed> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(data);
    bytes += data.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

// --------------------------------------------------------------------------------------------------- http ---

/** Sends a request (streaming `body`, if any) to 127.0.0.1 and resolves once the response headers arrive. */
function send(url: string, method: string, headers: Record<string, string | number>, body?: Readable): Promise<IncomingMessage> {
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

async function readText(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

async function apiUpload(baseUrl: string, content: Content): Promise<{ code: string; downloadUrl: string }> {
  const { body, contentType, length } = multipartBody(content);
  const headers = { 'content-type': contentType, 'content-length': length, accept: 'application/json' };
  const res = await send(`${baseUrl}/upload`, 'POST', headers, body);
  const text = await readText(res);
  if (res.statusCode !== 201) throw new Error(`POST /upload answered ${res.statusCode}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { code: string; downloadUrl: string; size: number };
  if (answer.size !== content.size) throw new Error(`POST /upload stored ${answer.size} bytes, not ${content.size}`);
  return answer;
}

async function apiDownload(downloadUrl: string): Promise<Hashed> {
  const res = await send(downloadUrl, 'GET', {});
  if (res.statusCode !== 200)
    throw new Error(`GET ${downloadUrl} answered ${res.statusCode}: ${(await readText(res)).slice(0, 300)}`);
  return hashStream(res as AsyncIterable<Buffer>);
}

// ----------------------------------------------------------------------------------------------- direct ---

async function directUpload(container: ContainerClient, name: string, content: Content): Promise<void> {
  await container
    .getBlockBlobClient(name)
    .uploadStream(contentStream(content), BLOCK_SIZE, CONCURRENCY, { abortSignal: AbortSignal.timeout(TOTAL_TIMEOUT_MS) });
}

async function directDownload(container: ContainerClient, name: string): Promise<Hashed> {
  const response = await container
    .getBlobClient(name)
    .download(0, undefined, { abortSignal: AbortSignal.timeout(TOTAL_TIMEOUT_MS) });
  if (!response.readableStreamBody) throw new Error(`blob ${name} came without a body`);
  return hashStream(response.readableStreamBody);
}

// -------------------------------------------------------------------------------------------- api process ---

function spawnApi(id: string): Api {
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
  };
  delete env.PUBLIC_URL;
  const child = spawn(process.execPath, ['--max-semi-space-size=4', 'apps/api/src/main.ts'], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.pid === undefined) throw new Error('could not start the API process');
  return child as Api;
}

/** Resolves with the URL the API prints once it listens; its output goes on to stderr, away from the table. */
function listeningUrl(api: Api): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`the API did not listen within ${START_TIMEOUT_MS / 1000}s`)),
      START_TIMEOUT_MS,
    );
    api.stdout.on('data', (data: Buffer) => {
      process.stderr.write(data);
      seen += data.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    api.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the API exited (${code ?? signal}) before listening`));
    });
  });
}

async function stopApi(api: Api): Promise<void> {
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
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Runs `work` while sampling the process's VmRSS every 50 ms; returns its result and the peak seen. */
async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; peakRss: number }> {
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
async function removeData(id: string, container: ContainerClient): Promise<void> {
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

// ---------------------------------------------------------------------------------------------- measure ---

const mib = (bytes: number): number => bytes / MiB;

async function warmUp(url: string, container: ContainerClient): Promise<void> {
  const content: Content = { size: MiB, seed: randomBytes(MiB) };
  const expected = contentHash(content);
  const { downloadUrl } = await apiUpload(url, content);
  const viaApi = await apiDownload(downloadUrl);
  await directUpload(container, 'warm-up', content);
  const direct = await directDownload(container, 'warm-up');
  await container.deleteBlob('warm-up');
  if (viaApi.sha256 !== expected || direct.sha256 !== expected)
    throw new Error('warm-up: downloaded bytes differ from the upload');
}

async function measure(api: Api, url: string, container: ContainerClient, sizeMiB: number): Promise<Row> {
  const content: Content = { size: sizeMiB * MiB, seed: randomBytes(MiB) };
  const expected = contentHash(content); // before any timing, so hashing the upload costs nothing measured
  const blob = `direct-${sizeMiB}`;
  const rssBefore = memory(api.pid).rss;

  progress(`${sizeMiB} MiB: upload through the API`);
  const upload = await withPeakRss(api.pid, () => timed(() => apiUpload(url, content)));
  const hwmAfterUpload = memory(api.pid).hwm;
  progress(`${sizeMiB} MiB: upload straight to Azurite`);
  const directUp = await timed(() => directUpload(container, blob, content));

  progress(`${sizeMiB} MiB: download through the API`);
  const download = await withPeakRss(api.pid, () => timed(() => apiDownload(upload.value.value.downloadUrl)));
  const hwmAfterDownload = memory(api.pid).hwm;
  progress(`${sizeMiB} MiB: download straight from Azurite`);
  const directDown = await timed(() => directDownload(container, blob));
  await container.deleteBlob(blob);

  const hashOk = download.value.value.sha256 === expected && directDown.value.sha256 === expected;
  if (!hashOk) {
    progress(
      `${sizeMiB} MiB: HASH MISMATCH: expected ${expected}, API ${download.value.value.sha256}, direct ${directDown.value.sha256}`,
    );
  }
  const rate = (seconds: number) => sizeMiB / seconds;
  const apiUploadMiBs = rate(upload.value.seconds);
  const directUploadMiBs = rate(directUp.seconds);
  const apiDownloadMiBs = rate(download.value.seconds);
  const directDownloadMiBs = rate(directDown.seconds);
  return {
    sizeMiB,
    sha256: expected,
    hashOk,
    rssBeforeMiB: mib(rssBefore),
    api: {
      uploadSeconds: upload.value.seconds,
      uploadMiBs: apiUploadMiBs,
      downloadSeconds: download.value.seconds,
      downloadMiBs: apiDownloadMiBs,
      peakRssUploadMiB: mib(upload.peakRss),
      peakRssDownloadMiB: mib(download.peakRss),
      hwmAfterUploadMiB: mib(hwmAfterUpload),
      hwmAfterDownloadMiB: mib(hwmAfterDownload),
    },
    direct: {
      uploadSeconds: directUp.seconds,
      uploadMiBs: directUploadMiBs,
      downloadSeconds: directDown.seconds,
      downloadMiBs: directDownloadMiBs,
    },
    uploadRatio: apiUploadMiBs / directUploadMiBs,
    downloadRatio: apiDownloadMiBs / directDownloadMiBs,
  };
}

// ----------------------------------------------------------------------------------------------- report ---

function withinBudget(row: Row, idleMiB: number): boolean {
  return Math.max(row.api.peakRssUploadMiB, row.api.peakRssDownloadMiB) - idleMiB <= RSS_BUDGET_MiB;
}

function table(rows: readonly Row[], idleMiB: number): string {
  const f = (n: number, digits = 1) => n.toFixed(digits);
  const header = [
    'size',
    'API upload MiB/s',
    'direct upload MiB/s',
    'ratio',
    'API download MiB/s',
    'direct download MiB/s',
    'idle RSS MiB',
    'peak RSS upload MiB',
    'peak-idle MiB',
    'peak RSS download MiB',
    `≤ idle+${RSS_BUDGET_MiB} MiB`,
  ];
  const lines = rows.map((r) => [
    r.sizeMiB >= 1024 && r.sizeMiB % 1024 === 0 ? `${r.sizeMiB / 1024} GiB` : `${r.sizeMiB} MiB`,
    f(r.api.uploadMiBs),
    f(r.direct.uploadMiBs),
    f(r.uploadRatio, 2),
    f(r.api.downloadMiBs),
    f(r.direct.downloadMiBs),
    f(idleMiB),
    f(r.api.peakRssUploadMiB),
    f(r.api.peakRssUploadMiB - idleMiB),
    f(r.api.peakRssDownloadMiB),
    withinBudget(r, idleMiB) ? 'PASS' : 'FAIL',
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** How far the upload peaks, and the download peaks, differ between sizes (the larger of the two). */
function sizeSpread(rows: readonly Row[]): number {
  const spread = (peaks: number[]) => (peaks.length === 0 ? 0 : Math.max(...peaks) - Math.min(...peaks));
  return Math.max(spread(rows.map((r) => r.api.peakRssUploadMiB)), spread(rows.map((r) => r.api.peakRssDownloadMiB)));
}

/** Encryption alone, in this process: what the API's secretstream costs per MiB, with no I/O around it. */
async function encryptionOnlyMiBs(sizeMiB: number): Promise<number> {
  const content: Content = { size: sizeMiB * MiB, seed: randomBytes(MiB) };
  const { seconds } = await timed(async () => {
    const sink = encryptStream(randomBytes(32));
    sink.resume();
    await pipeline(contentStream(content), sink);
  });
  return sizeMiB / seconds;
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

// ------------------------------------------------------------------------------------------------- main ---

function parseSizes(args: readonly string[]): number[] {
  const { values } = parseArgs({ args: [...args], options: { quick: { type: 'boolean' }, sizes: { type: 'string' } } });
  if (values.sizes !== undefined) {
    const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
    if (sizes.some((n) => !Number.isInteger(n) || n <= 0))
      throw new Error(`--sizes wants whole MiB such as 100,1024, not "${values.sizes}"`);
    return sizes;
  }
  return values.quick ? [10, 100] : [100, 1024];
}

async function main(): Promise<number> {
  const sizes = parseSizes(process.argv.slice(2));
  const id = `bench${Date.now()}`;
  const container = BlobServiceClient.fromConnectionString(AZURITE_DEV_CONNECTION_STRING).getContainerClient(id);
  progress(`starting the API (database, container and queue prefix ${id})`);
  const api = spawnApi(id);

  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      progress('cleaning up');
      await stopApi(api);
      await removeData(id, container);
    })());
  const giveUp = (why: string, code: number) => {
    progress(why);
    void cleanUp().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(() => giveUp(`over ${TOTAL_TIMEOUT_MS / 60_000} min; giving up`, 1), TOTAL_TIMEOUT_MS);
  process.once('SIGINT', () => giveUp('interrupted', 130));

  try {
    const url = await listeningUrl(api);
    progress(`API ${url} (pid ${api.pid}); warming up`);
    await warmUp(url, container);
    await sleep(1_000);
    const idleMiB = mib(memory(api.pid).rss);
    progress(`idle RSS ${idleMiB.toFixed(1)} MiB`);

    const rows: Row[] = [];
    for (const sizeMiB of sizes) rows.push(await measure(api, url, container, sizeMiB));

    const encryptMiBs = await encryptionOnlyMiBs(256);
    const spread = sizeSpread(rows);
    const allWithin = rows.every((r) => withinBudget(r, idleMiB));
    const hashesOk = rows.every((r) => r.hashOk);
    const finalHwmMiB = mib(memory(api.pid).hwm);
    process.stdout.write(
      `${table(rows, idleMiB)}\n\n` +
        `Targets: peak RSS ≤ idle + ${RSS_BUDGET_MiB} MiB during upload and download: ${allWithin ? 'PASS' : 'FAIL'}; ` +
        `the same for every size (upload peaks, and download peaks, within ${SIZE_SPREAD_MiB} MiB; spread ${spread.toFixed(1)} MiB): ` +
        `${spread <= SIZE_SPREAD_MiB ? 'PASS' : 'FAIL'}\n` +
        `Encrypted vs unencrypted upload: the API encrypts everything it stores (secretstream); "direct upload" ` +
        `stores the same bytes unencrypted. Encryption alone, in-process: ${encryptMiBs.toFixed(0)} MiB/s.\n` +
        `sha256 of every download equals the upload's: ${hashesOk ? 'yes' : 'NO'}; ` +
        `API VmHWM (lifetime high-water mark) at the end: ${finalHwmMiB.toFixed(1)} MiB\n` +
        `Node ${process.version}, ${new Date().toISOString()}, sampled VmRSS every ${SAMPLE_MS} ms; ` +
        `direct = @azure/storage-blob, ${BLOCK_SIZE / MiB} MiB blocks × ${CONCURRENCY}\n`,
    );
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      sizesMiB: sizes,
      sampleMs: SAMPLE_MS,
      direct: { blockSizeMiB: BLOCK_SIZE / MiB, concurrency: CONCURRENCY },
      idleRssMiB: idleMiB,
      finalHwmMiB,
      targets: {
        rssBudgetMiB: RSS_BUDGET_MiB,
        withinBudget: allWithin,
        sizeSpreadMiB: spread,
        sizeSpreadLimitMiB: SIZE_SPREAD_MiB,
      },
      hashesOk,
      encryptionOnlyMiBs: encryptMiBs,
      rows,
    };
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    progress(`raw figures in ${RESULTS_FILE}`);
    return hashesOk ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
