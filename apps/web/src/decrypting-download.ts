import { createOneTimeClient } from '@one-time/client';
import { keyToFragment } from '@one-time/e2e';
import {
  WORKER_SCOPE,
  WORKER_URL,
  failureOf,
  saveUrl,
  type FromWorker,
  type KeepAlive,
  type SaveFailure,
  type SaveRequest,
} from './save-protocol.ts';

/** An end-to-end encrypted file, with the key from the link and the metadata it opened. */
export interface DecryptingDownload {
  readonly code: string;
  readonly key: Uint8Array;
  /** A safe base name (see `safeFileName`). */
  readonly name: string;
  /** Plaintext bytes. */
  readonly size: number;
}

export interface DownloadEvents {
  /** The server answered: a download is used up from here on. */
  readonly onStarted?: () => void;
  /** Plaintext bytes saved so far. */
  readonly onProgress?: (bytes: number) => void;
}

export type DownloadOutcome = { readonly ok: true } | { readonly ok: false; readonly failure: SaveFailure };

/** How long the worker may take to take a request, or to start answering once its address is opened. */
const WORKER_ANSWER_MS = 10_000;
/** How long the server may take to start answering the download, through the worker. */
const WORKER_START_MS = 60_000;
/** Browsers stop a service worker that has heard nothing for about 30 s, even while it streams a download. */
const KEEP_ALIVE_EVERY_MS = 10_000;
/** Without the worker, decrypted bytes are collected into Blobs of this size. */
const BLOB_PART_BYTES = 8 * 1024 * 1024;

let registering: Promise<ServiceWorker | undefined> | undefined;

/**
 * Registers the decrypting worker (once per page) and resolves with it once active, or with undefined where
 * there is none to be had: no service worker support (some private modes, old browsers, plain http on a LAN),
 * or a registration that fails. Called as soon as the page knows the file is encrypted, so that a click finds
 * the worker ready.
 */
export function prepareWorker(): Promise<ServiceWorker | undefined> {
  registering ??= registerWorker();
  return registering;
}

async function registerWorker(): Promise<ServiceWorker | undefined> {
  const container = (navigator as Partial<Navigator>).serviceWorker;
  if (!window.isSecureContext || container === undefined) return undefined;
  try {
    const registration = await container.register(WORKER_URL, {
      scope: WORKER_SCOPE,
      updateViaCache: 'none',
      // `vite` dev serves the worker's source as a module; the build bundles it into one classic script.
      ...(import.meta.env.DEV ? { type: 'module' as const } : {}),
    });
    return await activeWorker(registration);
  } catch {
    return undefined;
  }
}

function activeWorker(registration: ServiceWorkerRegistration): Promise<ServiceWorker | undefined> {
  if (registration.active) return Promise.resolve(registration.active);
  const pending = registration.installing ?? registration.waiting;
  if (!pending) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(registration.active ?? undefined), WORKER_ANSWER_MS);
    pending.addEventListener('statechange', () => {
      if (pending.state === 'activated' || pending.state === 'redundant') {
        clearTimeout(timer);
        resolve(registration.active ?? undefined);
      }
    });
  });
}

/**
 * Downloads, decrypts and saves the file. With the service worker, the browser streams it to disk (any size, in
 * bounded memory); without one, it is decrypted into a Blob first (memory as large as the file, which browsers
 * may page out to disk) and saved with `<a download>`. Either way a file that does not decrypt is not saved.
 */
export async function saveDecrypted(file: DecryptingDownload, events: DownloadEvents = {}): Promise<DownloadOutcome> {
  const registered = await prepareWorker();
  // The worker active now: a newer version may have replaced the one registered when the page loaded.
  const current = registered && (await navigator.serviceWorker.getRegistration(WORKER_SCOPE).catch(() => undefined));
  const worker = current?.active ?? registered;
  if (worker) {
    const outcome = await viaWorker(worker, file, events);
    if (outcome !== 'unavailable') return outcome;
  }
  return viaBlob(file, events);
}

/** 'unavailable': the worker did not take the request; nothing was downloaded, the Blob way may be tried. */
function viaWorker(
  worker: ServiceWorker,
  file: DecryptingDownload,
  events: DownloadEvents,
): Promise<DownloadOutcome | 'unavailable'> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    let keepAlive: ReturnType<typeof setInterval> | undefined;
    let answered = false;
    const finish = (outcome: DownloadOutcome | 'unavailable') => {
      clearTimeout(noAnswer);
      clearInterval(keepAlive);
      channel.port1.close();
      resolve(outcome);
    };
    // No 'ready' in time: the worker is not working, nothing was downloaded, and the page falls back.
    let noAnswer = setTimeout(() => finish('unavailable'), WORKER_ANSWER_MS);
    channel.port1.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      switch (message.type) {
        case 'ready': {
          if (answered) return;
          answered = true;
          clearTimeout(noAnswer);
          // From here on the worker may be downloading: never fall back (that could use a second download).
          noAnswer = setTimeout(() => finish({ ok: false, failure: { reason: 'network' } }), WORKER_START_MS);
          keepAlive = setInterval(() => worker.postMessage({ type: 'keep-alive' } satisfies KeepAlive), KEEP_ALIVE_EVERY_MS);
          openSaveAddress(saveUrl(file.code, message.id));
          return;
        }
        case 'started':
          clearTimeout(noAnswer);
          events.onStarted?.();
          return;
        case 'progress':
          events.onProgress?.(message.bytes);
          return;
        case 'done':
          events.onProgress?.(message.bytes);
          finish({ ok: true });
          return;
        case 'failed': {
          const { type: _type, ...failure } = message;
          finish({ ok: false, failure });
          return;
        }
      }
    };
    const request: SaveRequest = { type: 'save', code: file.code, key: file.key, name: file.name, size: file.size };
    worker.postMessage(request, [channel.port2]);
  });
}

/**
 * Opens the save address in this window: the worker answers with an attachment, so the browser saves it and the
 * page stays (or with a 204, which leaves the page as it is). An iframe would need `frame-src`, which the page's
 * CSP does not allow.
 */
function openSaveAddress(url: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.rel = 'noreferrer';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

async function viaBlob(file: DecryptingDownload, events: DownloadEvents): Promise<DownloadOutcome> {
  const client = createOneTimeClient({ baseUrl: location.origin });
  let blob: Blob;
  try {
    const download = await client.download(file.code, { key: keyToFragment(file.key) });
    events.onStarted?.();
    const reader = download.stream.getReader();
    // Gathered into Blobs of a few MiB as it comes (browsers may keep large Blobs on disk), not one array.
    const parts: Blob[] = [];
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending.push(value);
      pendingBytes += value.length;
      bytes += value.length;
      events.onProgress?.(bytes);
      if (pendingBytes >= BLOB_PART_BYTES) {
        parts.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
        pending = [];
        pendingBytes = 0;
      }
    }
    parts.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
    blob = new Blob(parts, { type: 'application/octet-stream' });
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
  if (blob.size !== file.size) return { ok: false, failure: { reason: 'decrypt' } };
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = file.name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the Blob once the click is handled; a minute is ample, then its memory is freed.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { ok: true };
}
