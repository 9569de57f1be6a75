/** Section 3 (and 5's measurement): many 1 KiB round trips, upload then download, from concurrent clients. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { inParallel, percentile, readText, send } from './support.ts';

const FILE_SIZE = 1024;

export interface SmallFilesResult {
  readonly count: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly roundTripsPerSecond: number;
  readonly uploadMs: Percentiles;
  readonly downloadMs: Percentiles;
  readonly roundTripMs: Percentiles;
  /** Round trips the server refused (e.g. 503 while the database was busy), by status; not in the latencies. */
  readonly failures: Record<string, number>;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

/** `count` round trips, `concurrency` at a time; every download must equal its upload, or the run fails. */
export async function smallFiles(url: string, count: number, concurrency: number): Promise<SmallFilesResult> {
  const uploads: number[] = [];
  const downloads: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const content = randomBytes(FILE_SIZE);
      const t0 = performance.now();
      let body: Buffer;
      let t1: number;
      try {
        const { downloadUrl } = await upload(url, content, i);
        t1 = performance.now();
        body = await download(downloadUrl);
      } catch (error) {
        if (!(error instanceof RefusedError)) throw error;
        failures[error.status] = (failures[error.status] ?? 0) + 1;
        return;
      }
      const t2 = performance.now();
      if (!body.equals(content)) throw new Error(`round trip ${i}: the download differs from the upload`);
      uploads.push(t1 - t0);
      downloads.push(t2 - t1);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const both = uploads.map((ms, i) => ms + (downloads[i] ?? 0));
  const done = uploads.length;
  return {
    count,
    concurrency,
    seconds,
    roundTripsPerSecond: done / seconds,
    uploadMs: percentiles(uploads),
    downloadMs: percentiles(downloads),
    roundTripMs: percentiles(both),
    failures,
  };
}

/** The server answered, with an error status: counted, not fatal (a wrong byte is). */
class RefusedError extends Error {
  readonly status: string;
  constructor(status: number | undefined, what: string) {
    super(`${what} answered ${status}`);
    this.status = String(status);
  }
}

export function smallFilesRow(label: string, r: SmallFilesResult): string[] {
  const ms = (p: Percentiles) => `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)}`;
  return [
    label,
    String(r.count),
    String(r.concurrency),
    r.roundTripsPerSecond.toFixed(1),
    ms(r.uploadMs),
    ms(r.downloadMs),
    ms(r.roundTripMs),
    Object.entries(r.failures)
      .map(([status, n]) => `${n} × ${status}`)
      .join(', ') || 'none',
  ];
}

export const SMALL_FILES_HEADER = [
  'run',
  'round trips',
  'clients',
  'round trips/s',
  'upload p50 / p99 ms',
  'download p50 / p99 ms',
  'round trip p50 / p99 ms',
  'refused',
];

function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p99: percentile(values, 99) };
}

async function upload(
  url: string,
  content: Buffer,
  i: number,
  ttl = '1h',
): Promise<{ downloadUrl: string; code: string; expiresAt: string }> {
  const boundary = `----one-time-bench-${i}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="small-${i}.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await send(
    `${url}/upload?ttl=${ttl}`,
    'POST',
    { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length, accept: 'application/json' },
    Readable.from([body]),
  );
  const text = await readText(res);
  if (res.statusCode !== 201) throw new RefusedError(res.statusCode, 'POST /upload');
  return JSON.parse(text) as { downloadUrl: string; code: string; expiresAt: string };
}

async function download(downloadUrl: string): Promise<Buffer> {
  const res = await send(downloadUrl, 'GET', {});
  const parts: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) parts.push(chunk);
  if (res.statusCode !== 200) throw new RefusedError(res.statusCode, 'GET /download');
  return Buffer.concat(parts);
}

export { upload as uploadSmall, download as downloadSmall };
