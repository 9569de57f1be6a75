import { OneTimeError } from '@one-time/client';
import { E2EDecryptError } from '@one-time/e2e';

/**
 * What the landing page and the decrypting service worker (`sw.ts`) say to each other. The page posts a
 * `SaveRequest` with a MessagePort; the worker answers on that port: `ready` with a one-time id, then
 * `progress`, and finally `done` or `failed`. The key travels only in this message, never in a URL.
 */

/** The worker's scope: the landing pages and the save addresses below them, nothing else (see `sw.ts`). */
export const WORKER_SCOPE = '/d/';
export const WORKER_URL = '/sw.js';

export interface SaveRequest {
  readonly type: 'save';
  readonly code: string;
  /** The file key, 16 bytes. */
  readonly key: Uint8Array;
  /** Already reduced to a safe base name by the page. */
  readonly name: string;
  /** Plaintext bytes. */
  readonly size: number;
}

/** Keeps the worker alive while a download streams through it (browsers stop idle workers). */
export interface KeepAlive {
  readonly type: 'keep-alive';
}

export type ToWorker = SaveRequest | KeepAlive;

export type SaveFailure =
  /** The server answered with an error (the code of its JSON body: NOT_FOUND when used up meanwhile). */
  | { readonly reason: 'server'; readonly code: string; readonly status: number; readonly retryAfterSeconds?: number }
  /** The server could not be reached, or the connection broke during the download. */
  | { readonly reason: 'network' }
  /** The bytes did not decrypt (damaged or altered): the download was aborted, nothing usable was saved. */
  | { readonly reason: 'decrypt' }
  /** The browser stopped reading (the person cancelled the download). */
  | { readonly reason: 'cancelled' };

export type FromWorker =
  | { readonly type: 'ready'; readonly id: string }
  | { readonly type: 'started' }
  | { readonly type: 'progress'; readonly bytes: number }
  | { readonly type: 'done'; readonly bytes: number }
  | ({ readonly type: 'failed' } & SaveFailure);

/** `/d/<code>/save/<id>`: the address the page opens; the worker answers it and it never reaches the server. */
export function saveUrl(code: string, id: string): string {
  return `${WORKER_SCOPE}${encodeURIComponent(code)}/save/${id}`;
}

export const SAVE_PATH = /^\/d\/([^/]+)\/save\/([A-Za-z0-9_-]{22})$/;

/** `Content-Disposition` with the name in RFC 5987 form (UTF-8, percent-encoded) and a plain ASCII fallback. */
export function attachmentHeader(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Why a download failed, from what the client or the decrypter threw. */
export function failureOf(error: unknown): SaveFailure {
  if (error instanceof E2EDecryptError) return { reason: 'decrypt' };
  if (error instanceof OneTimeError && error.code.startsWith('E2E_')) return { reason: 'decrypt' };
  if (error instanceof OneTimeError && error.code !== 'NETWORK') {
    return {
      reason: 'server',
      code: error.code,
      status: error.status ?? 500,
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  return { reason: 'network' };
}
