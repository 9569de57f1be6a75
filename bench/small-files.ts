/**
 * Small files: 1 KiB upload + download round trips from concurrent clients for a fixed time. Every download must
 * equal its upload, or the run fails; an error answer (or a connection error) is counted, not fatal.
 */
import { randomBytes } from 'node:crypto';
import { readBody, readText, send, summarize, type Summary } from './support.ts';

const FILE_SIZE = 1024;

export interface SmallFilesOptions {
  readonly clients: number;
  readonly durationMs: number;
  /**
   * Called between a round trip's upload and its download (outside both timings); what it returns is called
   * once the download has been read to its end. Used to watch files until they are gone.
   */
  readonly afterUpload?: (upload: Uploaded) => Promise<((downloadedAt: number) => void) | undefined>;
}

export interface SmallFilesResult {
  readonly clients: number;
  readonly seconds: number;
  readonly roundTrips: number;
  readonly roundTripsPerSecond: number;
  readonly uploadMs: Summary;
  readonly downloadMs: Summary;
  /** Round trips that failed, by status or error code; not in the latencies. */
  readonly errors: Record<string, number>;
  readonly errorCount: number;
}

export interface Uploaded {
  readonly code: string;
  readonly downloadUrl: string;
  readonly expiresAt: string;
}

/** Clients start round trips until `durationMs` has passed; the round trips in flight then finish. */
export async function smallFiles(url: string, options: SmallFilesOptions): Promise<SmallFilesResult> {
  const uploads: number[] = [];
  const downloads: number[] = [];
  const errors: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + options.durationMs;
  let sequence = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const i = sequence++;
      const content = randomBytes(FILE_SIZE);
      try {
        const t0 = performance.now();
        const uploaded = await uploadSmall(url, content, i);
        const t1 = performance.now();
        const downloaded = await options.afterUpload?.(uploaded);
        const t2 = performance.now();
        const body = await downloadSmall(uploaded.downloadUrl);
        const t3 = performance.now();
        downloaded?.(Date.now());
        if (!body.equals(content)) throw new Error(`round trip ${i}: the download differs from the upload`);
        uploads.push(t1 - t0);
        downloads.push(t3 - t2);
      } catch (error) {
        if (!(error instanceof RefusedError) && !isConnectionError(error)) throw error;
        const key = error instanceof RefusedError ? error.status : error.code;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const seconds = (performance.now() - started) / 1000;
  return {
    clients: options.clients,
    seconds,
    roundTrips: uploads.length,
    roundTripsPerSecond: uploads.length / seconds,
    uploadMs: summarize(uploads),
    downloadMs: summarize(downloads),
    errors,
    errorCount: Object.values(errors).reduce((sum, n) => sum + n, 0),
  };
}

/** The server answered, with an error status: counted, not fatal (a wrong byte is). */
export class RefusedError extends Error {
  readonly status: string;
  constructor(status: number | undefined, what: string, body: string) {
    super(`${what} answered ${status}: ${body.slice(0, 200)}`);
    this.status = String(status);
  }
}

function isConnectionError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

export async function uploadSmall(url: string, content: Buffer, i: number, ttl = '1h'): Promise<Uploaded> {
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
    body,
  );
  const text = await readText(res);
  if (res.statusCode !== 201) throw new RefusedError(res.statusCode, 'POST /upload', text);
  return JSON.parse(text) as Uploaded;
}

export async function downloadSmall(downloadUrl: string): Promise<Buffer> {
  const res = await send(downloadUrl, 'GET', {});
  const body = await readBody(res);
  if (res.statusCode !== 200) throw new RefusedError(res.statusCode, 'GET /download', body.toString('utf8'));
  return body;
}
