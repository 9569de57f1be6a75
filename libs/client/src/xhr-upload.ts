import { OneTimeError } from './one-time-error.ts';
import { abortReason } from './retries.ts';

export interface XhrUploadOptions {
  /** Default POST. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly onProgress?: (sent: number) => void;
  readonly signal?: AbortSignal | undefined;
  /** A request whose upload makes no progress for this long is given up as a NETWORK error (a stalled link). */
  readonly stallMs?: number;
}

/**
 * Browsers report upload progress only through XMLHttpRequest (fetch has no upload events), so FormData uploads
 * and the chunks of encrypted ones go through it when it exists. The answer comes back as a `Response`, so
 * errors take the same path as fetch's.
 */
export function xhrUpload(url: string, body: FormData | Blob, options: XhrUploadOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let stalled = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(watchdog);
      if (options.stallMs !== undefined) watchdog = setTimeout(() => ((stalled = true), xhr.abort()), options.stallMs);
    };
    const onAbort = () => xhr.abort();
    const settle = () => {
      clearTimeout(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
    };
    xhr.open(options.method ?? 'POST', url);
    xhr.setRequestHeader('accept', 'application/json');
    for (const [name, value] of Object.entries(options.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.responseType = 'blob';
    xhr.upload.onprogress = (event) => {
      watch();
      options.onProgress?.(event.loaded);
    };
    xhr.onload = () => {
      settle();
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      resolve(new Response(xhr.response as Blob, { status: xhr.status, statusText: xhr.statusText, headers }));
    };
    xhr.onerror = () => {
      settle();
      reject(new OneTimeError('NETWORK', `Cannot reach ${new URL(url).origin}.`));
    };
    xhr.onabort = () => {
      settle();
      reject(stalled ? new OneTimeError('NETWORK', 'The upload stalled.') : abortReason(options.signal));
    };
    if (options.signal?.aborted) {
      reject(abortReason(options.signal));
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    watch();
    xhr.send(body);
  });
}
