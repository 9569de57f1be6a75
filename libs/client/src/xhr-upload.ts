import { OneTimeError } from './one-time-error.ts';

/**
 * Browsers report upload progress only through XMLHttpRequest (fetch has no upload events), so FormData uploads go
 * through it when it exists. The answer comes back as a `Response`, so errors take the same path as fetch's.
 */
export function xhrUpload(
  url: string,
  body: FormData,
  options: { onProgress?: (sent: number) => void; signal?: AbortSignal | undefined },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.responseType = 'blob';
    xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded);
    xhr.onload = () => {
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      resolve(new Response(xhr.response as Blob, { status: xhr.status, statusText: xhr.statusText, headers }));
    };
    xhr.onerror = () => reject(new OneTimeError('NETWORK', `Cannot reach ${new URL(url).origin}.`));
    xhr.onabort = () => {
      const reason: unknown = options.signal?.reason;
      reject(reason instanceof Error ? reason : new DOMException('The upload was aborted.', 'AbortError'));
    };
    if (options.signal?.aborted) {
      xhr.onabort(new ProgressEvent('abort'));
      return;
    }
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
