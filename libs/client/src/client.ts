import { TRPCClientError, createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@one-time/api';
import type { ErrorCode } from '@one-time/core';
import { multipartBody, type Part } from './multipart.ts';
import { resumingBody, type ResumeOptions } from './resuming-download.ts';
import { OneTimeError, errorFromResponse } from './one-time-error.ts';
import { safeFileName } from './safe-file-name.ts';
import { xhrUpload } from './xhr-upload.ts';

/** What can be uploaded: a file path (Node), bytes, a Blob/File, or a stream of bytes (web or Node). */
export type UploadSource = string | Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
export interface NamedSource {
  readonly source: UploadSource;
  /** Defaults to the path's last segment, a File's name, or `file`. */
  readonly name?: string;
  /** Known total for progress reports (paths, byte arrays and Blobs know theirs). */
  readonly size?: number;
}
export type UploadInput = UploadSource | NamedSource | ReadonlyArray<UploadSource | NamedSource>;

export interface UploadOptions {
  /** e.g. `10m`, `24h`, `7d` (checked against `limits()` by the server). */
  readonly ttl?: string;
  readonly downloads?: number;
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number | undefined }) => void;
  readonly signal?: AbortSignal;
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
  /** Resumes by itself after a broken connection (see `ResumeOptions`); errors unless every byte arrived. */
  readonly stream: ReadableStream<Uint8Array>;
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
     * Uses up one download. Accepts the code or a link to it. A connection that breaks is taken up again
     * with the download's session, from the first byte not yet received: no second download is used.
     */
    async download(codeOrUrl: string, downloadOptions: ResumeOptions = {}): Promise<Downloaded> {
      const url = `${baseUrl}/download/${encodeURIComponent(codeOf(codeOrUrl))}`;
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
      };
    },

    info: (codeOrUrl: string) => viaTrpc(() => trpc.file.info.query({ code: codeOf(codeOrUrl) })),
    revoke: (codeOrUrl: string, deleteToken: string) =>
      viaTrpc(() => trpc.file.revoke.mutate({ code: codeOf(codeOrUrl), deleteToken })),
    limits: () => viaTrpc(() => trpc.server.limits.query()),
    health: () => viaTrpc(() => trpc.server.health.query()),
  };
}

export type OneTimeClient = ReturnType<typeof createOneTimeClient>;

/** `https://host/download/<code>` or `https://host/d/<code>` or the bare code. */
export function codeOf(codeOrUrl: string): string {
  const trimmed = codeOrUrl.trim();
  if (!/^https?:\/\//.test(trimmed)) return trimmed;
  return new URL(trimmed).pathname.split('/').filter(Boolean).pop() ?? '';
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

async function viaTrpc<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const data = (error as TRPCClientError<AppRouter>).data;
      const code: ErrorCode = data?.appCode ?? (data?.code === 'TOO_MANY_REQUESTS' ? 'RATE_LIMITED' : 'INTERNAL');
      if (data === undefined || data === null) throw new OneTimeError('NETWORK', error.message, { cause: error });
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
