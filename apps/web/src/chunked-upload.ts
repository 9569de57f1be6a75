import { OneTimeError, errorFromResponse, type Uploaded } from '@one-time/client';

/**
 * The server's chunked uploads (docs/chunked-uploads.md), for a body the page produces as a stream (the
 * ciphertext): one `POST /uploads`, one `PUT` per chunk, one `POST …/complete`.
 *
 * Memory: the stream is read into one chunk of exactly `chunkSize` bytes at a time, gathered into a Blob (which
 * the browser keeps outside the page's heap); the next chunk is read while the current one is sent, so at most
 * two chunks exist at once, whatever the file's size. A chunk is kept until the server confirmed it, so a
 * failed `PUT` is sent again without reading anything twice: after a dropped
 * connection the upload first asks `GET /uploads/<code>` whether the chunk arrived anyway (only its answer may
 * have been lost), then goes on from the first chunk not stored. The stream cannot be rewound, so this works
 * within one page session; a reloaded page starts a new upload (the abandoned one expires on the server).
 */

export interface CreateUpload {
  /** Ciphertext bytes. */
  readonly size: number;
  /** Sealed metadata, base64url. */
  readonly meta: string;
  readonly ttl?: string;
  readonly downloads?: number;
}

export interface CreatedUpload {
  readonly code: string;
  readonly url: string;
  readonly chunkSize: number;
  readonly chunks: number;
  readonly deleteToken: string;
  readonly uploadExpiresAt: string;
}

export interface UploadStatus {
  readonly size: number;
  readonly chunkSize: number;
  readonly chunks: number;
  readonly stored: readonly number[];
  readonly received: number;
}

export interface ChunkProgress {
  /** Bytes the server has (confirmed chunks and the one in flight). */
  readonly sent: number;
  readonly total: number;
}

export interface ChunkedUploadOptions {
  readonly onProgress?: (progress: ChunkProgress) => void;
  /** Waits before retries of a failed chunk (ms); the last one is used for any further retry. */
  readonly retryDelaysMs?: readonly number[];
  /** A chunk whose upload makes no progress for this long is abandoned and sent again. */
  readonly stallMs?: number;
}

const RETRY_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000];
const STALL_MS = 60_000;
/** The longest wait a `Retry-After` may impose between two attempts. */
const MAX_RETRY_AFTER_MS = 60_000;

const base = (): string => location.origin;
const uploadPath = (code: string): string => `${base()}/uploads/${encodeURIComponent(code)}`;

/** `POST /uploads`: the upload, its code and its chunk size. */
export async function createUpload(request: CreateUpload, signal?: AbortSignal): Promise<CreatedUpload> {
  const response = await send(`${base()}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(request),
    ...(signal ? { signal } : {}),
  });
  const created = (await response.json()) as CreatedUpload;
  if (
    !Number.isSafeInteger(created.chunkSize) ||
    created.chunkSize < 1 ||
    created.chunks !== Math.ceil(request.size / created.chunkSize)
  ) {
    throw new OneTimeError('INTERNAL', 'The server answered with an unusable chunk layout.');
  }
  return created;
}

/**
 * Sends a stream of exactly `total` bytes as the chunks of `upload`. `run()` may be called again after it
 * failed: it asks the server what arrived and continues with the chunk it still holds; nothing already
 * confirmed is sent twice. Resolves with the completed upload (the link works from then on).
 */
export class ChunkedUpload {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private leftover: Uint8Array | undefined;
  /** The chunk being sent (kept until confirmed) and the one being read meanwhile. */
  private current: { readonly index: number; readonly bytes: Blob } | undefined;
  private upcoming: Promise<Blob> | undefined;
  private index = 0;
  private confirmed = 0;
  private runs = 0;
  private completed: Uploaded | undefined;
  /** False once a failure cannot be resumed (the stream broke, or the server refused the upload). */
  resumable = true;

  private readonly upload: CreatedUpload;
  private readonly total: number;
  private readonly options: ChunkedUploadOptions;

  constructor(upload: CreatedUpload, body: ReadableStream<Uint8Array>, total: number, options: ChunkedUploadOptions = {}) {
    this.upload = upload;
    this.total = total;
    this.options = options;
    this.reader = body.getReader();
  }

  /** The share link's address (without any fragment), once complete. */
  async run(signal?: AbortSignal): Promise<Uploaded> {
    this.runs += 1;
    try {
      if (this.runs > 1) await this.skipStoredChunks(signal);
      while (this.index < this.upload.chunks) {
        const index = this.index;
        this.current ??= { index, bytes: await this.takeUpcoming(index) };
        // Read (and encrypt) the next chunk while this one travels.
        if (this.upcoming === undefined && index + 1 < this.upload.chunks) {
          this.upcoming = this.readChunk(index + 1);
          this.upcoming.catch(() => undefined); // awaited later; a failure is handled there
        }
        await this.sendWithRetries(this.current.index, this.current.bytes, signal);
        this.confirmed += this.current.bytes.size;
        this.current = undefined;
        this.index += 1;
        this.report(0);
      }
      await this.expectEnd();
      this.completed ??= await this.complete(signal);
      return this.completed;
    } catch (error) {
      if (signal?.aborted) {
        this.resumable = false;
        void this.reader.cancel().catch(() => undefined);
      } else if (!isRetryable(error)) {
        this.resumable = false;
      }
      throw error;
    }
  }

  /** Gives up: the stream is released; the server removes the unfinished upload when it expires. */
  abandon(): void {
    this.resumable = false;
    void this.reader.cancel().catch(() => undefined);
  }

  private async takeUpcoming(index: number): Promise<Blob> {
    const upcoming = this.upcoming;
    this.upcoming = undefined;
    return upcoming ?? this.readChunk(index);
  }

  /** After an interruption: whatever the server already stored is not sent again. */
  private async skipStoredChunks(signal?: AbortSignal): Promise<void> {
    const status = await this.status(signal);
    const stored = new Set(status.stored);
    // Only the chunk in hand can be missing or present: every earlier one was confirmed.
    if (this.current && stored.has(this.current.index)) {
      this.confirmed += this.current.bytes.size;
      this.current = undefined;
      this.index += 1;
    }
    this.report(0);
  }

  /**
   * Exactly the bytes of chunk `index` (`chunkSize`, or what remains for the last one), as a Blob: the browser
   * keeps a Blob's bytes out of the page's memory (and sends a Blob body many times faster than a byte array).
   * The pieces read from the stream are held only until the chunk is complete.
   */
  private async readChunk(index: number): Promise<Blob> {
    const start = index * this.upload.chunkSize;
    const length = Math.min(this.upload.chunkSize, this.total - start);
    const pieces: Uint8Array<ArrayBuffer>[] = [];
    let filled = 0;
    while (filled < length) {
      let piece = this.leftover;
      this.leftover = undefined;
      if (piece === undefined) {
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await this.reader.read();
        } catch (error) {
          this.resumable = false;
          throw error;
        }
        if (read.done) {
          this.resumable = false;
          throw new Error(`the encrypted stream ended after ${start + filled} of ${this.total} bytes`);
        }
        piece = read.value;
      }
      const take = Math.min(piece.length, length - filled);
      pieces.push(piece.subarray(0, take) as Uint8Array<ArrayBuffer>);
      filled += take;
      if (take < piece.length) this.leftover = piece.subarray(take);
    }
    return new Blob(pieces, { type: 'application/octet-stream' });
  }

  private async expectEnd(): Promise<void> {
    if (this.leftover && this.leftover.length > 0) throw this.tooLong();
    for (;;) {
      const read = await this.reader.read();
      if (read.done) return;
      if (read.value.length > 0) throw this.tooLong();
    }
  }

  private tooLong(): Error {
    this.resumable = false;
    void this.reader.cancel().catch(() => undefined);
    return new Error(`the encrypted stream is longer than the ${this.total} bytes announced`);
  }

  private async sendWithRetries(index: number, bytes: Blob, signal?: AbortSignal): Promise<void> {
    const delays = this.options.retryDelaysMs ?? RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.putChunk(index, bytes, signal);
        return;
      } catch (error) {
        if (signal?.aborted || !isRetryable(error) || attempt >= delays.length) throw error;
        const retryAfter =
          error instanceof OneTimeError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
        await sleep(Math.min(Math.max(delays[attempt] ?? 0, retryAfter), MAX_RETRY_AFTER_MS), signal);
        // A dropped connection may have lost only the answer: ask before sending the chunk again.
        try {
          if ((await this.status(signal)).stored.includes(index)) return;
        } catch (statusError) {
          if (signal?.aborted) throw statusError;
          // Not reachable yet either: the next attempt will tell.
        }
      }
    }
  }

  /** One `PUT` through XMLHttpRequest, the only browser API that reports upload progress. */
  private putChunk(index: number, bytes: Blob, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const xhr = new XMLHttpRequest();
      const stallMs = this.options.stallMs ?? STALL_MS;
      let stalled = false;
      let watchdog = setTimeout(() => ((stalled = true), xhr.abort()), stallMs);
      const onAbort = () => xhr.abort();
      const settle = () => {
        clearTimeout(watchdog);
        signal?.removeEventListener('abort', onAbort);
      };
      xhr.open('PUT', `${uploadPath(this.upload.code)}/${index}`);
      xhr.setRequestHeader('authorization', `Bearer ${this.upload.deleteToken}`);
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.setRequestHeader('accept', 'application/json');
      xhr.responseType = 'text';
      xhr.upload.onprogress = (event) => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => ((stalled = true), xhr.abort()), stallMs);
        this.report(Math.min(event.loaded, bytes.size));
      };
      xhr.onload = () => {
        settle();
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
          return;
        }
        const headers = new Headers();
        const retryAfter = xhr.getResponseHeader('retry-after');
        if (retryAfter !== null) headers.set('retry-after', retryAfter);
        void errorFromResponse(new Response(xhr.responseText, { status: xhr.status, headers })).then(reject);
      };
      xhr.onerror = () => {
        settle();
        reject(new OneTimeError('NETWORK', `Cannot reach ${base()}.`));
      };
      xhr.onabort = () => {
        settle();
        reject(stalled ? new OneTimeError('NETWORK', 'The upload of a chunk stalled.') : abortReason(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      xhr.send(bytes);
    });
  }

  private async status(signal?: AbortSignal): Promise<UploadStatus> {
    const response = await send(uploadPath(this.upload.code), {
      headers: { authorization: `Bearer ${this.upload.deleteToken}`, accept: 'application/json' },
      cache: 'no-store',
      ...(signal ? { signal } : {}),
    });
    return (await response.json()) as UploadStatus;
  }

  private async complete(signal?: AbortSignal): Promise<Uploaded> {
    const delays = this.options.retryDelaysMs ?? RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const response = await send(`${uploadPath(this.upload.code)}/complete`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.upload.deleteToken}`, accept: 'application/json' },
          ...(signal ? { signal } : {}),
        });
        return (await response.json()) as Uploaded;
      } catch (error) {
        if (signal?.aborted || !isRetryable(error) || attempt >= delays.length) throw error;
        await sleep(delays[attempt] ?? 0, signal);
      }
    }
  }

  private report(inFlight: number): void {
    this.options.onProgress?.({ sent: Math.min(this.confirmed + inFlight, this.total), total: this.total });
  }
}

/**
 * Worth another attempt: the network, the server's passing trouble (5xx, 408, 429), a chunk the server got only
 * part of (UPLOAD_INCOMPLETE), or one still being written by a request given up on (CHUNK_BUSY).
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'NETWORK',
  'RATE_LIMITED',
  'UPLOAD_TIMEOUT',
  'UPLOAD_INCOMPLETE',
  'CHUNK_BUSY',
]);

export function isRetryable(error: unknown): boolean {
  if (!(error instanceof OneTimeError)) return false;
  if (RETRYABLE_CODES.has(error.code)) return true;
  return error.status !== undefined && (error.status >= 500 || error.status === 408 || error.status === 429);
}

async function send(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw abortReason(init.signal);
    throw new OneTimeError('NETWORK', `Cannot reach ${base()}.`, { cause: error });
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

function abortReason(signal: AbortSignal | undefined | null): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('The upload was aborted.', 'AbortError');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
