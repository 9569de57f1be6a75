import type { Uploaded } from './client.ts';
import { encryptStream, encryptedSize, generateKey, keyToFragment, sealMetadata } from '@one-time/e2e';
import { chunkReader, sizeOf, slices, type ChunkBytes, type ChunkReader } from './chunk-reader.ts';
import { OneTimeError, errorFromResponse } from './one-time-error.ts';
import { abortReason, retryable, withRetries, type RetryPolicy } from './retries.ts';
import { safeFileName } from './safe-file-name.ts';
import { xhrUpload } from './xhr-upload.ts';

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
  /** Ciphertext bytes the server holds (confirmed chunks, and what went of the one in flight where that is known). */
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number | undefined }) => void;
  readonly signal?: AbortSignal;
  /**
   * How chunks travel. `stream` (Node): a stream of views into one of two reused buffers, no copy. `blob`
   * (browsers, which stream request bodies only over HTTP/2): a Blob through `fetch`. `xhr`: a Blob through
   * XMLHttpRequest, for progress within a chunk and a stall watchdog (browsers, with their own `fetch`).
   */
  readonly chunkBodies?: 'stream' | 'blob' | 'xhr';
  /**
   * Whether creating the upload is retried like a chunk (default). A page with a person watching fails at once
   * instead: nothing has been sent yet, and its message says what to do (a rate limit: when to try again).
   */
  readonly retryCreate?: boolean;
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

/** `POST /uploads/<code>/complete` answers what any upload answers. */
export type Completed = Uploaded;

interface Status {
  readonly stored: readonly number[];
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** A chunk whose upload (through XMLHttpRequest) makes no progress for this long is sent again. */
const STALL_MS = 60_000;

/**
 * One end-to-end encrypted upload: a fresh key, the metadata sealed with it, the file encrypted as it streams
 * and sent in the server's chunks. The chunk being sent is kept until the server has acknowledged it, so a
 * failed or cut request is sent again (after asking the server which chunks it holds, when the connection was
 * lost); the next chunk is read and encrypted meanwhile, so at most two chunks are in memory.
 *
 * `run()` may be called again after it failed while `resumable` (the retries ran out on a network or server
 * error): same key, same upload, from the chunk the server does not have. The plaintext stream cannot be
 * rewound, so this works within the life of this object only.
 */
export class EncryptedUpload {
  /** Ciphertext bytes, announced to the server up front. */
  readonly size: number;
  private readonly key = generateKey();
  private created: Created | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private chunks: ChunkReader | undefined;
  /** The chunk being sent (kept until confirmed) and the one read meanwhile. */
  private current: { readonly index: number; readonly bytes: ChunkBytes } | undefined;
  private upcoming: Promise<ChunkBytes> | undefined;
  private index = 0;
  private confirmed = 0;
  private completeTried = false;
  private result: Completed | undefined;
  /** Set once a failure cannot be taken up again: the stream broke, the server refused, or the caller gave up. */
  private broken = false;

  private readonly baseUrl: string;
  private readonly doFetch: Fetch;
  private readonly file: PlainFile;
  private readonly settings: EncryptedUploadSettings;

  constructor(baseUrl: string, doFetch: Fetch, file: PlainFile, settings: EncryptedUploadSettings = {}) {
    this.baseUrl = baseUrl;
    this.doFetch = doFetch;
    this.file = file;
    this.settings = settings;
    this.size = encryptedSize(file.size);
  }

  /** Plaintext bytes (the file, or the zip of several). */
  get plainSize(): number {
    return this.file.size;
  }

  /**
   * Whether a failed `run()` may be called again to go on where it stopped: the upload exists on the server
   * and the failure was the network's or the server's, not the file's or the caller's.
   */
  get resumable(): boolean {
    return this.created !== undefined && !this.broken && this.result === undefined;
  }

  /**
   * Sends what is left and completes the upload. Resolves with the server's answer, its `url` carrying the key
   * in its fragment (`#…`): the only copy of the key.
   */
  async run(signal: AbortSignal | undefined = this.settings.signal): Promise<Completed> {
    if (this.result) return this.result;
    if (this.broken) throw new OneTimeError('INTERNAL', 'This upload failed for good; start a new one.');
    const policy: RetryPolicy = { retries: this.settings.retries ?? 5, delayMs: this.settings.retryDelayMs ?? 500, signal };
    try {
      if (signal?.aborted) throw abortReason(signal);
      const created = (this.created ??= await this.create(policy));
      await this.skipStoredChunk(created, signal);
      while (this.index < created.chunks) {
        const index = this.index;
        this.current ??= { index, bytes: await this.take(created, index) };
        // Read (and encrypt) the next chunk while this one travels.
        if (this.upcoming === undefined && index + 1 < created.chunks) {
          this.upcoming = this.readChunk(created, index + 1);
          this.upcoming.catch(() => undefined); // awaited when its turn comes; a failure is handled there
        }
        await this.sendWithRetries(created, this.current.index, this.current.bytes, policy);
        this.confirmed += sizeOf(this.current.bytes);
        this.current = undefined;
        this.index += 1;
        this.report(0);
      }
      await this.chunkReader(created)
        .end()
        .catch((error: unknown) => {
          this.abandon(error);
          throw error;
        });
      const { code, url, downloadUrl, expiresAt, size, downloadsLeft, deleteToken } = await this.complete(created, policy);
      // The fields `Uploaded` promises, nothing more the server may add.
      const link = `${url}#${keyToFragment(this.key)}`;
      this.result = { code, url: link, downloadUrl, expiresAt, size, downloadsLeft, deleteToken };
      return this.result;
    } catch (error) {
      if (signal?.aborted || !retryable(error)) this.abandon(error);
      throw error;
    }
  }

  /** Gives up: the plaintext stream is released; the server removes the unfinished upload when it expires. */
  abandon(reason?: unknown): void {
    if (this.broken) return;
    this.broken = true;
    void (this.reader ?? this.file.stream).cancel(reason).catch(() => {});
  }

  /** `POST /uploads` with the ciphertext's exact size and the sealed metadata. */
  private async create(policy: RetryPolicy): Promise<Created> {
    const meta = await sealMetadata(this.key, sealableMetadata(this.file));
    const { ttl, downloads } = this.settings;
    const created = await withRetries(this.settings.retryCreate === false ? { ...policy, retries: 0 } : policy, () =>
      this.json<Created>(`${this.baseUrl}/uploads`, policy.signal, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          size: this.size,
          meta,
          ...(ttl === undefined ? {} : { ttl }),
          ...(downloads === undefined ? {} : { downloads }),
        }),
      }),
    );
    if (!(created.chunkSize > 0) || created.chunks !== Math.ceil(this.size / created.chunkSize)) {
      const error = new OneTimeError('INTERNAL', 'The server planned chunks that do not fit the upload.');
      this.abandon(error);
      throw error;
    }
    this.report(0);
    return created;
  }

  /** The ciphertext, cut into chunks; encryption runs as chunks are read, never ahead of the upload. */
  private chunkReader(created: Created): ChunkReader {
    if (!this.chunks) {
      this.reader = this.file.stream.pipeThrough(encryptStream(this.key)).getReader();
      const blobs = this.settings.chunkBodies !== 'stream';
      this.chunks = chunkReader(this.reader, { chunkSize: created.chunkSize, total: this.size, blobs });
    }
    return this.chunks;
  }

  /** A stream that fails cannot be read again: such a failure ends the upload for good. */
  private async readChunk(created: Created, index: number): Promise<ChunkBytes> {
    try {
      return await this.chunkReader(created).read(index);
    } catch (error) {
      this.abandon(error);
      throw error;
    }
  }

  private async take(created: Created, index: number): Promise<ChunkBytes> {
    const upcoming = this.upcoming;
    this.upcoming = undefined;
    return upcoming ?? this.readChunk(created, index);
  }

  /** Taken up again after a failure: the chunk in hand may have arrived, only its answer lost. */
  private async skipStoredChunk(created: Created, signal: AbortSignal | undefined): Promise<void> {
    const current = this.current;
    if (!current) return;
    if ((await this.status(created, signal)).stored.includes(current.index)) {
      this.confirmed += sizeOf(current.bytes);
      this.current = undefined;
      this.index += 1;
      this.report(0);
    }
  }

  private async sendWithRetries(created: Created, index: number, bytes: ChunkBytes, policy: RetryPolicy): Promise<void> {
    let arrived = false;
    await withRetries(
      policy,
      async () => {
        if (!arrived) await this.put(created, index, bytes, policy.signal);
      },
      async (attempt, error) => {
        this.settings.onRetry?.({ chunk: index, attempt, error });
        if (error.code !== 'NETWORK') return;
        // The connection went down: the answer may be what was lost. Ask what the server holds.
        const status = await this.status(created, policy.signal).catch((statusError: unknown) => {
          // Not back yet: the next try of the chunk tells (sending it again is harmless).
          if (retryable(statusError)) return undefined;
          throw statusError;
        });
        if (status === undefined) return;
        if (Array.from({ length: index }, (_, earlier) => earlier).some((n) => !status.stored.includes(n))) {
          const lost = new OneTimeError('INTERNAL', 'The server lost chunks it had acknowledged.');
          this.abandon(lost);
          throw lost;
        }
        arrived = status.stored.includes(index);
      },
    );
  }

  /** One `PUT` of a chunk, with a fresh body for every try. */
  private async put(created: Created, index: number, bytes: ChunkBytes, signal: AbortSignal | undefined): Promise<void> {
    const url = `${this.uploadUrl(created)}/${index}`;
    const headers = { authorization: `Bearer ${created.deleteToken}`, 'content-type': 'application/octet-stream' };
    if (bytes instanceof Blob && this.settings.chunkBodies === 'xhr') {
      const onProgress = (loaded: number) => this.report(Math.min(loaded, bytes.size));
      const response = await xhrUpload(url, bytes, { method: 'PUT', headers, onProgress, signal, stallMs: STALL_MS });
      if (!response.ok) throw await errorFromResponse(response);
      return;
    }
    // `duplex` is required for a streamed body but not yet in the DOM typings.
    const init: RequestInit & { duplex?: 'half' } =
      bytes instanceof Blob
        ? { method: 'PUT', headers: { ...headers, accept: 'application/json' }, body: bytes }
        : {
            method: 'PUT',
            headers: { ...headers, accept: 'application/json', 'content-length': String(bytes.length) },
            body: slices(bytes),
            duplex: 'half',
          };
    const response = await this.call(url, signal, init);
    await response.body?.cancel();
  }

  private status(created: Created, signal: AbortSignal | undefined): Promise<Status> {
    const headers = { authorization: `Bearer ${created.deleteToken}`, accept: 'application/json' };
    return this.json<Status>(this.uploadUrl(created), signal, { headers, cache: 'no-store' });
  }

  private async complete(created: Created, policy: RetryPolicy): Promise<Completed> {
    return withRetries(policy, async () => {
      try {
        return await this.json<Completed>(`${this.uploadUrl(created)}/complete`, policy.signal, {
          method: 'POST',
          headers: { authorization: `Bearer ${created.deleteToken}`, accept: 'application/json' },
        });
      } catch (error) {
        // Completing twice is refused (the upload is no longer in progress): after a lost answer, ask for the file.
        if (this.completeTried && error instanceof OneTimeError && error.code === 'NOT_FOUND') {
          return completedFromInfo(this.baseUrl, created, this.doFetch, error);
        }
        this.completeTried = true;
        throw error;
      }
    });
  }

  private uploadUrl(created: Created): string {
    return `${this.baseUrl}/uploads/${encodeURIComponent(created.code)}`;
  }

  /** One call, errors as OneTimeError (NETWORK when there was no answer). */
  private async call(url: string, signal: AbortSignal | undefined, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.doFetch(url, { ...init, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      const message = error instanceof Error ? error.message : String(error);
      throw new OneTimeError('NETWORK', `Cannot reach ${this.baseUrl}: ${message}`, { cause: error });
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  private async json<T>(url: string, signal: AbortSignal | undefined, init: RequestInit): Promise<T> {
    return (await (await this.call(url, signal, init)).json()) as T;
  }

  private report(inFlight: number): void {
    this.settings.onProgress?.({ sent: Math.min(this.confirmed + inFlight, this.size), total: this.size });
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
 * What the sealed metadata may hold (see docs/e2e-format.md): a name without control characters or lone
 * surrogates, a printable ASCII type. The receiver cleans the name again before saving; cleaning it here too
 * keeps a name with a newline (legal on Linux) from failing the upload.
 */
export function sealableMetadata(file: Pick<PlainFile, 'name' | 'type' | 'size'>): { name: string; type: string; size: number } {
  const type = /^[\x20-\x7e]{1,255}$/.test(file.type) ? file.type : 'application/octet-stream';
  return { name: safeFileName(file.name, 'file'), type, size: file.size };
}
