/**
 * The decrypting download: a service worker (built to `dist/sw.js`, registered with scope `/d/`) that answers
 * `/d/<code>/save/<id>` with the file's ciphertext from `/download/<code>`, decrypted on the fly (by the
 * client library's download, which also resumes a broken connection). The browser saves the answer like any
 * download, to disk, so memory stays bounded whatever the file's size: a record or two in flight (the
 * decrypter holds one 64 KiB record back) plus the streams' small queues, pulled at the pace of the disk.
 * A failure to decrypt errors the body, so the browser fails the download and keeps no partial file.
 *
 * The landing page posts `{ code, key, name, size }` with a MessagePort (see `save-protocol.ts`); the worker keeps
 * it in memory only, under a random one-time id, for a minute at most, and tells the page the id. The key never
 * appears in a URL, a header or a request: the save address carries the id, and the id is forgotten when used.
 *
 * A scope of `/d/` and not `/`: pages under it are the only ones the worker controls, so the send page's uploads
 * and the API's own routes never pass through a fetch handler (Chromium has had upload bugs with those).
 */
import { createOneTimeClient } from '@one-time/client';
import { E2EDecryptError, keyToFragment } from '@one-time/e2e';
import { SAVE_PATH, attachmentHeader, failureOf, type FromWorker, type SaveFailure, type SaveRequest } from './save-protocol.ts';

/** The parts of the service worker global scope used here (the DOM typings of the pages do not have them). */
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly ports: readonly MessagePort[];
  readonly origin: string;
}
interface WorkerScope {
  readonly location: Location;
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
  addEventListener(type: 'message', listener: (event: ExtendableMessageEvent) => void): void;
}

const worker = globalThis as unknown as WorkerScope;
/** A save request not used within this time is forgotten (the page opens its address right away). */
const REQUEST_LIFETIME_MS = 60_000;
/** How often the page hears how far the download got. */
const PROGRESS_EVERY_BYTES = 1024 * 1024;

interface Job extends Omit<SaveRequest, 'type'> {
  readonly port: MessagePort;
  readonly timer: ReturnType<typeof setTimeout>;
}

const jobs = new Map<string, Job>();
const client = createOneTimeClient({ baseUrl: worker.location.origin });

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('message', (event) => {
  if (event.origin !== '' && event.origin !== worker.location.origin) return;
  const port = event.ports[0];
  const request = asSaveRequest(event.data);
  if (port === undefined || request === undefined) return; // keep-alive messages, or nothing we know
  const id = randomId();
  const timer = setTimeout(() => jobs.delete(id), REQUEST_LIFETIME_MS);
  jobs.set(id, { ...request, key: new Uint8Array(request.key), port, timer });
  tell(port, { type: 'ready', id });
});

worker.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const match = SAVE_PATH.exec(url.pathname);
  if (url.origin !== worker.location.origin || match === null) return; // everything else goes to the network
  const [, code = '', id = ''] = match;
  const job = jobs.get(id);
  if (job === undefined || event.request.method !== 'GET' || encodeURIComponent(job.code) !== code) {
    // Used already, expired, or a worker restarted since: nothing happens (a 204 leaves the page where it is).
    event.respondWith(new Response(null, { status: 204 }));
    return;
  }
  jobs.delete(id); // one use
  clearTimeout(job.timer);
  event.respondWith(save(job));
});

/** The decrypted download, or a 204 (the page stays) when it cannot start; the page hears why on its port. */
async function save(job: Job): Promise<Response> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    // The client checks the key against the file's sealed metadata, resumes a broken connection with the
    // download's session (one download is used, not two), and decrypts as the bytes arrive.
    const download = await client.download(job.code, { key: keyToFragment(job.key) });
    reader = download.stream.getReader();
  } catch (error) {
    tell(job.port, { type: 'failed', ...failureOf(error) });
    return new Response(null, { status: 204 });
  }
  tell(job.port, { type: 'started' });
  let bytes = 0;
  let reported = 0;
  let finished = false;
  const fail = (failure: SaveFailure, error: unknown, controller: ReadableStreamDefaultController<Uint8Array>) => {
    finished = true;
    tell(job.port, { type: 'failed', ...failure });
    // Erroring the body makes the browser fail the download and discard the partial file.
    controller.error(error);
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        fail(failureOf(error), error, controller);
        return;
      }
      if (chunk.done) {
        if (bytes !== job.size) {
          fail({ reason: 'decrypt' }, new E2EDecryptError('format', 'the file is not the announced size'), controller);
          return;
        }
        finished = true;
        controller.close();
        tell(job.port, { type: 'done', bytes });
        return;
      }
      bytes += chunk.value.length;
      if (bytes > job.size) {
        void reader.cancel();
        fail({ reason: 'decrypt' }, new E2EDecryptError('format', 'the file is longer than announced'), controller);
        return;
      }
      controller.enqueue(chunk.value);
      if (bytes - reported >= PROGRESS_EVERY_BYTES) {
        reported = bytes;
        tell(job.port, { type: 'progress', bytes });
      }
    },
    cancel(reason) {
      if (!finished) tell(job.port, { type: 'failed', reason: 'cancelled' });
      finished = true;
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': attachmentHeader(job.name),
      'Content-Length': String(job.size),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

function tell(port: MessagePort, message: FromWorker): void {
  port.postMessage(message);
}

function asSaveRequest(data: unknown): SaveRequest | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const request = data as Partial<Record<keyof SaveRequest, unknown>>;
  if (request.type !== 'save') return undefined;
  const { code, key, name, size } = request;
  if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(code)) return undefined;
  if (!(key instanceof Uint8Array) || key.length !== 16) return undefined;
  if (typeof name !== 'string' || name === '' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    return undefined;
  }
  return { type: 'save', code, key, name, size };
}

/** 16 random bytes, base64url: 22 characters. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, '')
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}
