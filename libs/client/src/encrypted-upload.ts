import { encryptStream, encryptedSize, generateKey, keyToFragment, sealMetadata } from '@one-time/e2e';
import { OneTimeError, errorFromResponse } from './one-time-error.ts';
import { safeFileName } from './safe-file-name.ts';

/** A file (or the zip of several) ready to be encrypted: its plaintext, and what the sealed metadata says. */
export interface PlainFile {
  readonly name: string;
  readonly type: string;
  /** Exact plaintext bytes: the ciphertext's length, announced up front, follows from it. */
  readonly size: number;
  readonly stream: ReadableStream<Uint8Array>;
}

export interface ChunkRetryOptions {
  /** How many times a chunk (or the create and complete calls) is tried again before the upload fails (default 5). */
  readonly retries?: number;
  /** Wait before the first retry, doubled for each next one (default 500 ms). */
  readonly retryDelayMs?: number;
  /** Told before each retry of a chunk. */
  readonly onRetry?: (event: { readonly chunk: number; readonly attempt: number; readonly error: unknown }) => void;
}

export interface EncryptedUploadSettings extends ChunkRetryOptions {
  readonly ttl?: string;
  readonly downloads?: number;
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number | undefined }) => void;
  readonly signal?: AbortSignal;
  /**
   * Send each chunk as a stream of views into the chunk buffer (Node), instead of a byte array that `fetch`
   * copies (what browsers need: they stream request bodies only over HTTP/2). Saves a chunk-sized copy per request.
   */
  readonly streamChunks?: boolean;
}

/** `POST /uploads` (docs/chunked-uploads.md). */
interface Created {
  readonly code: string;
  readonly url: string;
  readonly downloadUrl: string;
  readonly chunkSize: number;
  readonly chunks: number;
  readonly deleteToken: string;
}

/** `POST /uploads/<code>/complete`: the body of any upload. */
export interface Completed {
  readonly code: string;
  readonly url: string;
  readonly downloadUrl: string;
  readonly expiresAt: string;
  readonly size: number;
  readonly downloadsLeft: number;
  readonly deleteToken: string;
}

interface Status {
  readonly size: number;
  readonly chunkSize: number;
  readonly stored: readonly number[];
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Answers worth another try: a lost connection, a server or store that is briefly away, a rate limit, a chunk
 * still being written by a request the client gave up on, a chunk the server got only part of.
 */
const RETRYABLE: ReadonlySet<string> = new Set([
  'NETWORK',
  'INTERNAL',
  'STORAGE_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'RATE_LIMITED',
  'UPLOAD_TIMEOUT',
  'CHUNK_BUSY',
  'UPLOAD_INCOMPLETE',
]);

function retryable(error: unknown): error is OneTimeError {
  return error instanceof OneTimeError && (RETRYABLE.has(error.code) || (error.status ?? 0) >= 502);
}

/**
 * Encrypts `file` with a fresh key as it streams and uploads the ciphertext in the server's chunks, one chunk
 * in memory at a time: the chunk being sent is kept until the server has acknowledged it, so a failed or cut
 * request is sent again (after asking the server which chunks it holds, when the connection was lost).
 * Returns the server's answer and the key as a link fragment (without `#`).
 */
export async function uploadEncryptedFile(
  baseUrl: string,
  doFetch: Fetch,
  file: PlainFile,
  settings: EncryptedUploadSettings,
): Promise<{ readonly completed: Completed; readonly fragment: string }> {
  const retries = settings.retries ?? 5;
  const delayMs = settings.retryDelayMs ?? 500;
  const { signal } = settings;
  const key = generateKey();
  const total = encryptedSize(file.size);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  /** One call, errors as OneTimeError (NETWORK when there was no answer). */
  const call = async (url: string, init: RequestInit): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(url, { ...init, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new OneTimeError('NETWORK', `Cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  };
  const json = async <T>(url: string, init: RequestInit): Promise<T> => (await (await call(url, init)).json()) as T;

  /** Tries `attempt` until it succeeds, fails for good, or the retries are used up. */
  const withRetries = async <T>(
    attempt: () => Promise<T>,
    onRetry?: (attempt: number, error: OneTimeError) => Promise<void> | void,
  ) => {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!retryable(error) || tries >= retries) throw error;
        const wait = error.retryAfterSeconds === undefined ? delayMs * 2 ** tries : error.retryAfterSeconds * 1000;
        await sleep(wait, signal);
        await onRetry?.(tries + 1, error);
      }
    }
  };

  try {
    const meta = await sealMetadata(key, sealableMetadata(file));
    const created = await withRetries(() =>
      json<Created>(`${baseUrl}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          size: total,
          meta,
          ...(settings.ttl === undefined ? {} : { ttl: settings.ttl }),
          ...(settings.downloads === undefined ? {} : { downloads: settings.downloads }),
        }),
      }),
    );
    const uploadUrl = `${baseUrl}/uploads/${encodeURIComponent(created.code)}`;
    const authorization = `Bearer ${created.deleteToken}`;
    if (!(created.chunkSize > 0) || created.chunks !== Math.ceil(total / created.chunkSize)) {
      throw new OneTimeError('INTERNAL', 'The server planned chunks that do not fit the upload.');
    }

    reader = file.stream.pipeThrough(encryptStream(key)).getReader();
    const chunks = chunkReader(reader, new Uint8Array(Math.min(created.chunkSize, total)));
    let sent = 0;
    settings.onProgress?.({ sent, total });
    for (let index = 0; index < created.chunks; index++) {
      const bytes = await chunks.next(Math.min(created.chunkSize, total - index * created.chunkSize));
      const headers = { authorization, 'content-type': 'application/octet-stream', accept: 'application/json' };
      // A fresh body for every try. `duplex` is required for a streamed body but not yet in the DOM typings.
      const init = (): RequestInit & { duplex?: 'half' } =>
        settings.streamChunks
          ? {
              method: 'PUT',
              headers: { ...headers, 'content-length': String(bytes.length) },
              body: slices(bytes),
              duplex: 'half',
            }
          : { method: 'PUT', headers, body: bytes as Uint8Array<ArrayBuffer> };
      const put = () => call(`${uploadUrl}/${index}`, init()).then(async (response) => void (await response.body?.cancel()));
      let arrived = false;
      await withRetries(
        async () => {
          if (!arrived) await put();
        },
        async (attempt, error) => {
          settings.onRetry?.({ chunk: index, attempt, error });
          if (error.code !== 'NETWORK') return;
          // The connection went down: the answer may be what was lost. Ask what the server holds.
          const status = await json<Status>(uploadUrl, { headers: { authorization, accept: 'application/json' } }).catch(
            (statusError: unknown) => {
              // Not back yet: the next try of the chunk tells (sending it again is harmless).
              if (retryable(statusError)) return undefined;
              throw statusError;
            },
          );
          if (status === undefined) return;
          const missing = Array.from({ length: index }, (_, earlier) => earlier).filter((n) => !status.stored.includes(n));
          if (missing.length > 0) {
            throw new OneTimeError('INTERNAL', `The server lost ${missing.length} chunk(s) it had acknowledged.`);
          }
          arrived = status.stored.includes(index);
        },
      );
      sent += bytes.length;
      settings.onProgress?.({ sent, total });
    }
    await chunks.end();

    let retried = false;
    const completed = await withRetries(async () => {
      try {
        return await json<Completed>(`${uploadUrl}/complete`, {
          method: 'POST',
          headers: { authorization, accept: 'application/json' },
        });
      } catch (error) {
        // Completing twice is refused (the upload is no longer in progress): after a lost answer, ask for the file.
        if (retried && error instanceof OneTimeError && error.code === 'NOT_FOUND') {
          return completedFromInfo(baseUrl, created, doFetch, error);
        }
        retried = true;
        throw error;
      }
    });
    return { completed, fragment: keyToFragment(key) };
  } catch (error) {
    await (reader ?? file.stream).cancel(error).catch(() => {});
    throw error;
  }
}

/** The upload was completed but its answer lost: the same details, from `file.info` (which never consumes). */
async function completedFromInfo(baseUrl: string, created: Created, doFetch: Fetch, notFound: OneTimeError): Promise<Completed> {
  const input = encodeURIComponent(JSON.stringify({ code: created.code }));
  const response = await doFetch(`${baseUrl}/trpc/file.info?input=${input}`, { headers: { accept: 'application/json' } }).catch(
    () => undefined,
  );
  const info = (await response?.json().catch(() => undefined)) as
    { result?: { data?: { size?: number; expiresAt?: string; downloadsLeft?: number } } } | undefined;
  const data = info?.result?.data;
  if (!response?.ok || data?.expiresAt === undefined || data.size === undefined || data.downloadsLeft === undefined)
    throw notFound;
  return {
    code: created.code,
    url: created.url,
    downloadUrl: created.downloadUrl,
    expiresAt: data.expiresAt,
    size: data.size,
    downloadsLeft: data.downloadsLeft,
    deleteToken: created.deleteToken,
  };
}

/**
 * Cuts a byte stream into chunks of the lengths asked for, in one reused buffer: the chunk handed out stays
 * valid until the next call.
 */
function chunkReader(reader: ReadableStreamDefaultReader<Uint8Array>, buffer: Uint8Array) {
  let rest: Uint8Array | undefined;
  return {
    async next(length: number): Promise<Uint8Array> {
      let filled = 0;
      while (filled < length) {
        let piece = rest;
        rest = undefined;
        if (piece === undefined) {
          const read = await reader.read();
          if (read.done) throw new OneTimeError('INTERNAL', 'The encrypted file ended before its announced size.');
          piece = read.value;
        }
        const take = Math.min(piece.length, length - filled);
        buffer.set(piece.subarray(0, take), filled);
        filled += take;
        if (take < piece.length) rest = piece.subarray(take);
      }
      return buffer.subarray(0, length);
    },
    /** The stream must be over exactly where the last chunk ended. */
    async end(): Promise<void> {
      if (rest !== undefined && rest.length > 0)
        throw new OneTimeError('INTERNAL', 'The encrypted file is longer than announced.');
      for (;;) {
        const read = await reader.read();
        if (read.done) return;
        if (read.value.length > 0) throw new OneTimeError('INTERNAL', 'The encrypted file is longer than announced.');
      }
    },
  };
}

/** The bytes as a stream of 256 KiB views (no copies): the request reads them as the socket takes them. */
function slices(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        const end = Math.min(offset + 256 * 1024, bytes.length);
        controller.enqueue(bytes.subarray(offset, end));
        offset = end;
      },
    },
    { highWaterMark: 0 },
  );
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/**
 * What the sealed metadata may hold (see docs/e2e-format.md): a name without control characters or lone
 * surrogates, a printable ASCII type. The receiver cleans the name again before saving; cleaning it here too
 * keeps a name with a newline (legal on Linux) from failing the upload.
 */
export function sealableMetadata(file: Pick<PlainFile, 'name' | 'type' | 'size'>): { name: string; type: string; size: number } {
  const type = /^[\x20-\x7e]{1,255}$/.test(file.type) ? file.type : 'application/octet-stream';
  return { name: safeFileName(file.name, 'file'), type, size: file.size };
}
