import { createHash, randomBytes } from 'node:crypto';
import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

export interface GeneratedFile {
  readonly size: number;
  /** A fresh stream of the same pseudo-random bytes each call. */
  stream(): Readable;
  readonly sha256: string;
}

/**
 * Deterministic pseudo-random content of any size, produced on the fly (never held whole in memory):
 * a random 1 MiB block repeated with a changing 8-byte counter so no two MiB are the same.
 */
export function generatedFile(size: number): GeneratedFile {
  const block = randomBytes(Math.min(size, 1024 * 1024));
  const chunks = function* (): Generator<Buffer> {
    let sent = 0;
    let counter = 0n;
    while (sent < size) {
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - sent)));
      if (chunk.length >= 8) chunk.writeBigUInt64BE(counter++, 0);
      sent += chunk.length;
      yield chunk;
    }
  };
  const hash = createHash('sha256');
  for (const chunk of chunks()) hash.update(chunk);
  return { size, stream: () => Readable.from(chunks(), { objectMode: false }), sha256: hash.digest('hex') };
}

export interface MultipartFile {
  readonly field: string;
  readonly filename: string;
  readonly contentType?: string;
  readonly content: Readable | Buffer | string;
}

/** A streamed multipart/form-data body, as curl -F would send it. */
export function multipart(
  files: readonly MultipartFile[],
  fields: Record<string, string> = {},
): { body: Readable; contentType: string } {
  const boundary = `----one-time-test-${randomBytes(8).toString('hex')}`;
  async function* parts(): AsyncGenerator<Buffer> {
    for (const [name, value] of Object.entries(fields)) {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    }
    for (const file of files) {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      );
      if (typeof file.content === 'string' || Buffer.isBuffer(file.content)) yield Buffer.from(file.content);
      else for await (const chunk of file.content) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return { body: Readable.from(parts(), { objectMode: false }), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface UploadAnswer {
  code: string;
  url: string;
  downloadUrl: string;
  expiresAt: string;
  size: number;
  downloadsLeft: number;
  deleteToken: string;
}

export async function uploadMultipart(
  baseUrl: string,
  files: readonly MultipartFile[],
  fields: Record<string, string> = {},
  query = '',
): Promise<Response> {
  const { body, contentType } = multipart(files, fields);
  return fetch(`${baseUrl}/upload${query}`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/json' },
    body: Readable.toWeb(body) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
}

export async function uploadJson(
  baseUrl: string,
  files: readonly MultipartFile[],
  fields: Record<string, string> = {},
): Promise<UploadAnswer> {
  const response = await uploadMultipart(baseUrl, files, fields);
  if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as UploadAnswer;
}

/** Downloads and hashes the body as it streams. */
export async function downloadHash(url: string): Promise<{ status: number; sha256: string; size: number; headers: Headers }> {
  const response = await fetch(url);
  const hash = createHash('sha256');
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
    }
  }
  return { status: response.status, sha256: hash.digest('hex'), size, headers: response.headers };
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Resolves when a request being written can take more (drain) or will never take more (close). */
export function drainedOrClosed(req: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
  });
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** True when the body ended cleanly; false when this side cut it off. */
  readonly complete: boolean;
}

export interface GetOptions {
  readonly headers?: Record<string, string>;
  /** Drops the connection once this many body bytes arrived (a broken network); the body keeps exactly those. */
  readonly cutAfter?: number;
  readonly method?: string;
  /** Pauses this long after every chunk (a reader slower than the server). */
  readonly pauseMs?: number;
}

/** One request read to its end, or to `cutAfter`; rejects if the server stops the body before either. */
export function getAnswer(url: string, options: GetOptions = {}): Promise<Answer> {
  const { headers = {}, cutAfter = Infinity, method = 'GET', pauseMs = 0 } = options;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const answer = (complete: boolean): Answer => ({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks),
        complete,
      });
      res.on('data', (chunk: Buffer) => {
        const room = cutAfter - received;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        received += Math.min(chunk.length, room);
        if (received >= cutAfter) {
          req.destroy();
          resolve(answer(false));
        } else if (pauseMs > 0) {
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('end', () => resolve(answer(true)));
      res.on('error', () => undefined); // the cut above, or the server's: 'close' below tells them apart
      res.on('close', () => {
        if (!res.complete && received < cutAfter) reject(new Error(`the answer stopped after ${received} bytes`));
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}
