/**
 * Sections 1, 2 and 6: large uploads and downloads through the API (its own process) against the ceiling of
 * talking to Azurite directly, the API's memory while it streams, and what encryption costs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerClient } from '@azure/storage-blob';
import { encryptStream } from '@one-time/crypto';
import {
  MiB,
  SAMPLE_MS,
  markdownTable,
  memory,
  mib,
  progress,
  readText,
  send,
  timed,
  withPeakRss,
  type Service,
} from './support.ts';

const BLOCK_SIZE = 2 * MiB; // direct upload: the same block size and concurrency as the API's AzureBlobStore
const CONCURRENCY = 4;
const RSS_BUDGET_MiB = 64; // target: peak RSS ≤ idle + this, during upload and during download
const SIZE_SPREAD_MiB = 16; // target: peak RSS the same for every size, within this
const TOTAL_TIMEOUT_MS = 10 * 60_000;

type Api = Service;

/** Deterministic pseudo-random bytes, made on the fly and never held whole in memory. */
interface Content {
  readonly size: number;
  /** A random 1 MiB block; each MiB sent is a copy with its first 8 bytes replaced by a counter. */
  readonly seed: Buffer;
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

// ---------------------------------------------------------------------------------------------- measure ---

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
  return markdownTable(header, lines);
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

// ------------------------------------------------------------------------------------------------ section ---

export interface LargeFilesResult {
  readonly markdown: string;
  readonly results: Record<string, unknown>;
  readonly hashesOk: boolean;
}

export async function largeFiles(
  api: Api,
  url: string,
  container: ContainerClient,
  sizes: readonly number[],
): Promise<LargeFilesResult> {
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
  const ratiosOk = rows.every((r) => r.uploadRatio >= 0.8 && r.downloadRatio >= 0.8);
  const finalHwmMiB = mib(memory(api.pid).hwm);
  const markdown =
    `${table(rows, idleMiB)}\n\n` +
    `Targets: API/direct ≥ 0.8 for upload and download: ${ratiosOk ? 'PASS' : 'FAIL'}; ` +
    `peak RSS ≤ idle + ${RSS_BUDGET_MiB} MiB during upload and download: ${allWithin ? 'PASS' : 'FAIL'}; ` +
    `the same for every size (upload peaks, and download peaks, within ${SIZE_SPREAD_MiB} MiB; spread ${spread.toFixed(1)} MiB): ` +
    `${spread <= SIZE_SPREAD_MiB ? 'PASS' : 'FAIL'}\n` +
    `Encrypted vs unencrypted upload: the API encrypts everything it stores (secretstream); "direct upload" ` +
    `stores the same bytes unencrypted. Encryption alone, in-process: ${encryptMiBs.toFixed(0)} MiB/s.\n` +
    `sha256 of every download equals the upload's: ${hashesOk ? 'yes' : 'NO'}; ` +
    `API VmHWM (lifetime high-water mark) at the end: ${finalHwmMiB.toFixed(1)} MiB; ` +
    `VmRSS sampled every ${SAMPLE_MS} ms; direct = @azure/storage-blob, ${BLOCK_SIZE / MiB} MiB blocks × ${CONCURRENCY}\n`;
  return {
    markdown,
    hashesOk,
    results: {
      sizesMiB: sizes,
      sampleMs: SAMPLE_MS,
      direct: { blockSizeMiB: BLOCK_SIZE / MiB, concurrency: CONCURRENCY },
      idleRssMiB: idleMiB,
      finalHwmMiB,
      targets: {
        ratioAtLeast: 0.8,
        ratiosOk,
        rssBudgetMiB: RSS_BUDGET_MiB,
        withinBudget: allWithin,
        sizeSpreadMiB: spread,
        sizeSpreadLimitMiB: SIZE_SPREAD_MiB,
      },
      hashesOk,
      encryptionOnlyMiBs: encryptMiBs,
      rows,
    },
  };
}
