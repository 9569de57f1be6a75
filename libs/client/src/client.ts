import { TRPCClientError, createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@one-time/api';
import type { ErrorCode } from '@one-time/core';
import { decrypting, openWithFragment } from './encrypted-download.ts';
import { EncryptedUpload, type ChunkRetryOptions, type PlainFile } from './encrypted-upload.ts';
import { multipartBody, type Part } from './multipart.ts';
import { resumingBody, type ResumeOptions } from './resuming-download.ts';
import { OneTimeError, errorFromResponse } from './one-time-error.ts';
import { safeFileName } from './safe-file-name.ts';
import { xhrUpload } from './xhr-upload.ts';
import { zipWriter, type ZipSource } from './zip-writer.ts';

/** What can be uploaded: a file path (Node), bytes, a Blob/File, or a stream of bytes (web or Node). */
export type UploadSource = string | Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
export interface NamedSource {
  readonly source: UploadSource;
  /** Defaults to the path's last segment, a File's name, or `file`. */
  readonly name?: string;
  /**
   * Known total for progress reports (paths, byte arrays and Blobs know theirs). Required for a stream sent
   * end-to-end encrypted: the encrypted upload announces its length up front.
   */
  readonly size?: number;
  /** The media type sealed with an end-to-end encrypted file (default: a Blob's type, else application/octet-stream). */
  readonly type?: string;
}
export type UploadInput = UploadSource | NamedSource | ReadonlyArray<UploadSource | NamedSource>;

export interface UploadOptions {
  /** e.g. `10m`, `24h`, `7d` (checked against `limits()` by the server). */
  readonly ttl?: string;
  readonly downloads?: number;
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number | undefined }) => void;
  readonly signal?: AbortSignal;
}

/** Options of `uploadEncrypted`: those of `upload`, how chunks are retried, the name of a zip of several. */
export interface EncryptedUploadOptions extends UploadOptions, ChunkRetryOptions {
  /** The name several files arrive under (default `files.zip`). */
  readonly zipName?: string;
  /** Retry creating the upload like a chunk (default); false fails at once, for a person who can click again. */
  readonly retryCreate?: boolean;
}

/** The name under which several files sent end-to-end encrypted arrive (zipped by the sender). */
export const E2E_ZIP_NAME = 'files.zip';

export interface DownloadOptions extends ResumeOptions {
  /** The key of an end-to-end encrypted file, as in a link's fragment; default: the fragment of the link given. */
  readonly key?: string;
}

export interface Uploaded {
  readonly code: string;
  readonly url: string;
  readonly downloadUrl: string;
  readonly expiresAt: string;
  readonly size: number;
  readonly downloadsLeft: number;
  readonly deleteToken: string;
}

export interface Downloaded {
  /** The server's name reduced to a safe base name (see `safeFileName`): never a path, never hidden. */
  readonly name: string;
  readonly contentType: string;
  /** Bytes in the whole download (a file, or the zip of several); the stream delivers exactly these. */
  readonly size: number | undefined;
  /**
   * Resumes by itself after a broken connection (see `ResumeOptions`); errors unless every byte arrived. For an
   * end-to-end encrypted file: the plaintext, decrypted as it arrives; it errors with `E2E_DECRYPT_FAILED` if
   * the content does not decrypt (and whatever it delivered before is then void).
   */
  readonly stream: ReadableStream<Uint8Array>;
  /** The sender encrypted the file; the name, type and size above are from its sealed metadata. */
  readonly endToEnd: boolean;
}

/** What a link points at, without using a download up; for an end-to-end encrypted file, opened with the link's key. */
export interface Described {
  readonly name: string;
  readonly contentType: string;
  readonly size: number;
  readonly expiresAt: string;
  readonly downloadsLeft: number;
  readonly endToEnd: boolean;
}

/** The typed client for one server: REST for the bytes, tRPC (types from the API's `AppRouter`) for the rest. */
export interface ClientOptions {
  readonly baseUrl: string;
  readonly fetch?: typeof fetch;
  /**
   * Stream request bodies (Node: any size, live progress). Browsers only stream uploads over HTTP/2, so
   * elsewhere files go as FormData (Blobs and byte arrays), through XMLHttpRequest for live progress unless a
   * custom `fetch` is given.
   */
  readonly streamingUploads?: boolean;
}

export function createOneTimeClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const defaultFetch = globalThis.fetch.bind(globalThis);
  const doFetch = options.fetch ?? defaultFetch;
  const streaming = options.streamingUploads ?? (typeof process !== 'undefined' && typeof process.versions?.node === 'string');
  const trpc = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, fetch: doFetch })] });

  const request = async (url: string, init: RequestInit): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(url, init);
    } catch (error) {
      throw new OneTimeError('NETWORK', `Cannot reach ${baseUrl}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  };

  const info = (codeOrUrl: string) => viaTrpc(baseUrl, () => trpc.file.info.query({ code: codeOf(codeOrUrl) }));

  /** The bytes as the server serves them (for an end-to-end encrypted file: the ciphertext). */
  const plainDownload = async (code: string, downloadOptions: ResumeOptions): Promise<Downloaded> => {
    const url = `${baseUrl}/download/${encodeURIComponent(code)}`;
    const response = await request(url, downloadOptions.signal ? { signal: downloadOptions.signal } : {});
    const length = response.headers.get('content-length');
    const session = response.headers.get('one-time-session');
    const size = length === null ? undefined : Number(length);
    if (!response.body) throw new OneTimeError('INTERNAL', 'The server sent no body.');
    const stream =
      size === undefined || session === null
        ? response.body // a server without sessions: nothing to resume with
        : resumingBody(response, { url, size, session, etag: response.headers.get('etag') }, request, downloadOptions);
    return {
      name: fileNameOf(response.headers.get('content-disposition')),
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      size,
      stream,
      endToEnd: false,
    };
  };

  /**
   * `uploadEncrypted` as a handle, for a caller that offers to go on after the retries ran out (a page's
   * "Try again"): `run(signal)` sends, and may be called again while `resumable` after it failed; `abandon()`
   * gives up. Nothing is sent before the first `run()`.
   */
  const encryptedUpload = async (input: UploadInput, uploadOptions: EncryptedUploadOptions = {}): Promise<EncryptedUpload> => {
    const file = await plainFileOf(Array.isArray(input) ? input : [input], uploadOptions.zipName ?? E2E_ZIP_NAME);
    // Browsers: Blob chunks, through XMLHttpRequest (progress within a chunk) unless a custom fetch is given.
    const xhr = typeof XMLHttpRequest === 'function' && doFetch === defaultFetch;
    return new EncryptedUpload(baseUrl, doFetch, file, {
      ...uploadOptions,
      chunkBodies: streaming ? 'stream' : xhr ? 'xhr' : 'blob',
    });
  };

  return {
    async upload(input: UploadInput, uploadOptions: UploadOptions = {}): Promise<Uploaded> {
      const parts = await Promise.all((Array.isArray(input) ? input : [input]).map(toPart));
      const total = parts.every((part) => part.size !== undefined)
        ? parts.reduce((sum, part) => sum + (part.size ?? 0), 0)
        : undefined;
      let sent = 0;
      const query = new URLSearchParams();
      if (uploadOptions.ttl !== undefined) query.set('ttl', uploadOptions.ttl);
      if (uploadOptions.downloads !== undefined) query.set('downloads', String(uploadOptions.downloads));
      const url = `${baseUrl}/upload${query.size > 0 ? `?${query}` : ''}`;
      const signal = uploadOptions.signal ? { signal: uploadOptions.signal } : {};
      if (!streaming) {
        const form = new FormData();
        for (const part of parts) form.append('file', await asBlob(part), part.name);
        const response =
          typeof XMLHttpRequest === 'function' && doFetch === defaultFetch
            ? await xhrUpload(url, form, {
                onProgress: (loaded) => uploadOptions.onProgress?.({ sent: Math.min(loaded, total ?? loaded), total }),
                signal: uploadOptions.signal,
              })
            : await request(url, { method: 'POST', headers: { accept: 'application/json' }, body: form, ...signal });
        if (!response.ok) throw await errorFromResponse(response);
        uploadOptions.onProgress?.({ sent: total ?? 0, total });
        return (await response.json()) as Uploaded;
      }
      const { body, contentType } = multipartBody(parts, (count) => {
        sent += count;
        uploadOptions.onProgress?.({ sent, total });
      });
      // `duplex` is required for a streamed body but not yet in the DOM typings.
      const init: RequestInit & { duplex: 'half' } = {
        method: 'POST',
        headers: { 'content-type': contentType, accept: 'application/json' },
        body: toWebStream(body),
        duplex: 'half',
        ...signal,
      };
      const response = await request(url, init);
      return (await response.json()) as Uploaded;
    },

    /**
     * Encrypts in this process, end to end, and uploads in chunks: the server never sees the content, the
     * name or the key. One file, or several zipped as they stream (`files.zip`). Memory: two chunks of the
     * server's size (8 MiB) whatever the file's size: the one being sent and the next, encrypted meanwhile. A
     * chunk that fails is sent again (`retries`), after a lost connection from what the server says it holds.
     * The `url` answered is the link to share, with the key in its fragment (`#…`): the only copy of the key.
     * `downloadUrl` serves the ciphertext.
     */
    async uploadEncrypted(input: UploadInput, uploadOptions: EncryptedUploadOptions = {}): Promise<Uploaded> {
      const upload = await encryptedUpload(input, uploadOptions);
      try {
        return await upload.run();
      } catch (error) {
        upload.abandon(error);
        throw error;
      }
    },

    encryptedUpload,

    /**
     * Uses up one download. Accepts the code or a link to it. A connection that breaks is taken up again
     * with the download's session, from the first byte not yet received: no second download is used.
     *
     * An end-to-end encrypted file (`file.info` says so) needs the key from the link's fragment (or `key`):
     * without it, or with a wrong one, this fails with `E2E_KEY_MISSING` or `E2E_KEY_WRONG` before anything is
     * downloaded. The stream is then decrypted as it arrives, under the name, type and size its sender sealed.
     */
    async download(codeOrUrl: string, downloadOptions: DownloadOptions = {}): Promise<Downloaded> {
      const code = codeOf(codeOrUrl);
      const details = await info(code);
      const sealed = sealedMetaOf(details);
      if (sealed === null) return plainDownload(code, downloadOptions);
      const { key, meta } = await openWithFragment(downloadOptions.key ?? fragmentOf(codeOrUrl), sealed);
      const ciphertext = await plainDownload(code, downloadOptions);
      return {
        name: safeFileName(meta.name),
        contentType: meta.type,
        size: meta.size,
        stream: decrypting(ciphertext.stream, key, meta.size),
        endToEnd: true,
      };
    },

    /**
     * `info`, with the sealed details of an end-to-end encrypted file opened by the link's key (errors
     * `E2E_KEY_MISSING` or `E2E_KEY_WRONG` without it). Never uses a download up.
     */
    async describe(codeOrUrl: string, options: { readonly key?: string } = {}): Promise<Described> {
      const details = await info(codeOf(codeOrUrl));
      const sealed = sealedMetaOf(details);
      const { expiresAt, downloadsLeft } = details;
      if (sealed === null) {
        return {
          name: details.name,
          contentType: details.contentType,
          size: details.size,
          expiresAt,
          downloadsLeft,
          endToEnd: false,
        };
      }
      const { meta } = await openWithFragment(options.key ?? fragmentOf(codeOrUrl), sealed);
      return { name: safeFileName(meta.name), contentType: meta.type, size: meta.size, expiresAt, downloadsLeft, endToEnd: true };
    },

    info,
    revoke: (codeOrUrl: string, deleteToken: string) =>
      viaTrpc(baseUrl, () => trpc.file.revoke.mutate({ code: codeOf(codeOrUrl), deleteToken })),
    limits: () => viaTrpc(baseUrl, () => trpc.server.limits.query()),
    health: () => viaTrpc(baseUrl, () => trpc.server.health.query()),
  };
}

export type OneTimeClient = ReturnType<typeof createOneTimeClient>;

/** `https://host/download/<code>` or `https://host/d/<code>` or the bare code (a `#key` after any of them is not part of it). */
export function codeOf(codeOrUrl: string): string {
  const trimmed = codeOrUrl.trim();
  if (!/^https?:\/\//.test(trimmed)) return trimmed.split('#')[0] ?? '';
  return new URL(trimmed).pathname.split('/').filter(Boolean).pop() ?? '';
}

/** The key part of a link (after `#`, without it), or undefined when there is none. */
export function fragmentOf(codeOrUrl: string): string | undefined {
  const hash = codeOrUrl.trim().indexOf('#');
  return hash < 0 ? undefined : codeOrUrl.trim().slice(hash + 1);
}

/** The sealed metadata `file.info` returns for an end-to-end encrypted file; null for any other (or an older server). */
function sealedMetaOf(details: object): string | null {
  const e2e = (details as { e2e?: { meta?: unknown } | null }).e2e;
  return typeof e2e?.meta === 'string' ? e2e.meta : null;
}

/**
 * The name the server gives a download, always as a safe base name: the server is not trusted to choose
 * where a file is written. `filename*` (RFC 5987, UTF-8) wins; if it is malformed, `filename=` is used.
 */
export function fileNameOf(disposition: string | null): string {
  const header = disposition ?? '';
  const extended = /(?:^|;)\s*filename\*\s*=\s*UTF-8'[^']*'([^;\s]+)/i.exec(header)?.[1];
  if (extended !== undefined) {
    try {
      return safeFileName(decodeURIComponent(extended));
    } catch {
      // Invalid percent-encoding (`%E0%A4%A`, `%zz`): not fatal, the plain name or the fallback will do.
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  return safeFileName(plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2] ?? '');
}

async function viaTrpc<T>(baseUrl: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const data = (error as TRPCClientError<AppRouter>).data;
      const code: ErrorCode = data?.appCode ?? (data?.code === 'TOO_MANY_REQUESTS' ? 'RATE_LIMITED' : 'INTERNAL');
      if (data === undefined || data === null) {
        const garbled = error.cause instanceof SyntaxError; // an answer, but not from a one-time server
        throw new OneTimeError('NETWORK', `${garbled ? `No valid answer from` : `Cannot reach`} ${baseUrl}: ${error.message}`, {
          cause: error,
        });
      }
      throw new OneTimeError(code, error.message, { status: data.httpStatus, cause: error });
    }
    throw error;
  }
}

async function toPart(input: UploadSource | NamedSource): Promise<Part & { size: number | undefined }> {
  const named: NamedSource = isNamed(input) ? input : { source: input };
  const { source } = named;
  if (typeof source === 'string') {
    // Node only; loaded lazily so browser bundles do not need it.
    const [fs, fsp, path] = await Promise.all([import('node:fs'), import('node:fs/promises'), import('node:path')]);
    return {
      name: named.name ?? path.basename(source),
      bytes: fs.createReadStream(source),
      size: named.size ?? (await fsp.stat(source)).size,
    };
  }
  if (source instanceof Uint8Array) return { name: named.name ?? 'file', bytes: source, size: source.length };
  if (source instanceof Blob)
    return { name: named.name ?? (source instanceof File ? source.name : 'file'), bytes: source, size: source.size };
  const bytes = source instanceof ReadableStream ? (source as unknown as AsyncIterable<Uint8Array>) : source;
  return { name: named.name ?? 'file', bytes, size: named.size };
}

function isNamed(input: UploadSource | NamedSource): input is NamedSource {
  return typeof input === 'object' && input !== null && 'source' in input;
}

/** Pull-based, so the source is read only as fast as the connection sends. */
function toWebStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next: IteratorResult<Uint8Array> = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/** Without streaming uploads a part must be a Blob; streams are read into one (browser use: Files and bytes). */
async function asBlob(part: Part): Promise<Blob> {
  if (part.bytes instanceof Blob) return part.bytes;
  if (part.bytes instanceof Uint8Array) return new Blob([part.bytes as Uint8Array<ArrayBuffer>]);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  for await (const chunk of part.bytes) chunks.push(chunk as Uint8Array<ArrayBuffer>);
  return new Blob(chunks);
}

/** A media type that can be sealed (printable ASCII, as Blob types are), else the generic one. */
function sealableType(type: string | undefined): string {
  return type !== undefined && type !== '' && type.length <= 255 && /^[\u0020-\u007e]+$/.test(type)
    ? type
    : 'application/octet-stream';
}

/** One input of an encrypted upload, not yet opened: zipping opens them one after another. */
async function encryptionSource(input: UploadSource | NamedSource): Promise<ZipSource & { readonly type: string }> {
  const named: NamedSource = isNamed(input) ? input : { source: input };
  const { source } = named;
  if (typeof source === 'string') {
    // Node only; loaded lazily so browser bundles do not need it.
    const [fs, fsp, path] = await Promise.all([import('node:fs'), import('node:fs/promises'), import('node:path')]);
    const stats = await fsp.stat(source);
    return {
      name: named.name ?? path.basename(source),
      type: sealableType(named.type),
      size: stats.size,
      open: () => fs.createReadStream(source, { highWaterMark: 256 * 1024 }),
    };
  }
  if (source instanceof Uint8Array) {
    return { name: named.name ?? 'file', type: sealableType(named.type), size: source.length, open: () => once(source) };
  }
  if (source instanceof Blob) {
    return {
      name: named.name ?? (source instanceof File ? source.name : 'file'),
      type: sealableType(named.type ?? source.type),
      size: source.size,
      open: () => source.stream(),
    };
  }
  if (named.size === undefined) {
    throw new OneTimeError(
      'BAD_REQUEST',
      'A stream sent end-to-end encrypted needs its size: give it as { source, name, size }.',
    );
  }
  return { name: named.name ?? 'file', type: sealableType(named.type), size: named.size, open: () => source };
}

/** What gets encrypted: the one file, or the zip of several, with the metadata to seal. */
async function plainFileOf(inputs: ReadonlyArray<UploadSource | NamedSource>, zipName: string): Promise<PlainFile> {
  if (inputs.length === 0) throw new OneTimeError('NO_FILE', 'Nothing to send.');
  const sources = await Promise.all(inputs.map(encryptionSource));
  const [only] = sources;
  if (sources.length === 1 && only !== undefined) {
    const opened = only.open();
    const stream = opened instanceof ReadableStream ? opened : toWebStream(opened);
    return { name: safeFileName(only.name, 'file'), type: only.type, size: only.size, stream: stream.pipeThrough(sized(only)) };
  }
  const zip = zipWriter(sources.map((source) => ({ ...source, name: safeFileName(source.name, 'file') })));
  return { name: zipName, type: 'application/zip', size: zip.size, stream: zip.stream };
}

/** Passes the bytes on, failing if there are more or fewer than announced (a file that changed while read). */
function sized(file: { readonly name: string; readonly size: number }): TransformStream<Uint8Array, Uint8Array> {
  let read = 0;
  const changed = () => new Error(`${file.name} changed while it was being sent (${read} bytes instead of ${file.size})`);
  return new TransformStream({
    transform(chunk, controller) {
      read += chunk.length;
      if (read > file.size) throw changed();
      controller.enqueue(chunk);
    },
    flush() {
      if (read !== file.size) throw changed();
    },
  });
}

function once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield await Promise.resolve(bytes);
    },
  };
}
