import { OneTimeError } from './one-time-error.ts';

/** What a download needs to be taken up again after the connection broke. */
interface Resumable {
  readonly url: string;
  readonly size: number;
  /** The session the server handed out with the first response (`One-Time-Session`). */
  readonly session: string;
  readonly etag: string | null;
}

export interface ResumeOptions {
  /** How many times a broken connection is resumed before the download fails (default 5). */
  readonly retries?: number;
  /** Wait before the first retry, doubled for each next one (default 500 ms). */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal;
  /** Told each time the download is taken up again, at which byte. */
  readonly onResume?: (event: { readonly from: number; readonly attempt: number; readonly error: unknown }) => void;
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * The body of a first download, continued after network errors with its session and a `Range` from the
 * first byte not yet received (`If-Range`: the same bytes, or nothing). Ends with an error unless exactly
 * `size` bytes arrived.
 */
export function resumingBody(
  first: Response,
  resumable: Resumable,
  request: Fetch,
  options: ResumeOptions,
): ReadableStream<Uint8Array> {
  const retries = options.retries ?? 5;
  const delay = options.retryDelayMs ?? 500;
  let received = 0;
  let attempt = 0;
  let reader = bodyOf(first).getReader();

  const resume = async (error: unknown): Promise<void> => {
    if (options.signal?.aborted || attempt >= retries) throw error;
    attempt += 1;
    options.onResume?.({ from: received, attempt, error });
    await sleep(delay * 2 ** (attempt - 1), options.signal);
    const headers: Record<string, string> = { 'one-time-session': resumable.session, range: `bytes=${received}-` };
    if (resumable.etag !== null) headers['if-range'] = resumable.etag;
    let response: Response;
    try {
      response = await request(resumable.url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (retryError) {
      // The server is not back yet (or the network is not): that costs an attempt too.
      if (retryError instanceof OneTimeError && retryError.code !== 'NETWORK') throw retryError;
      return resume(retryError);
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (response.status !== 206 || Number(range?.[1]) !== received || Number(range?.[3]) !== resumable.size) {
      await response.body?.cancel();
      throw new OneTimeError('INTERNAL', `The server could not continue the download at byte ${received}.`);
    }
    reader = bodyOf(response).getReader();
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (received >= resumable.size) throw error;
          await resume(error);
          continue;
        }
        if (chunk.done) {
          if (received !== resumable.size) {
            // A clean end short of the length is a cut-off too (a proxy that closed politely).
            await resume(new Error(`the connection ended after ${received} of ${resumable.size} bytes`));
            continue;
          }
          controller.close();
          return;
        }
        received += chunk.value.length;
        if (received > resumable.size) throw new OneTimeError('INTERNAL', 'The server sent more bytes than it announced.');
        controller.enqueue(chunk.value);
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function bodyOf(response: Response): ReadableStream<Uint8Array> {
  if (!response.body) throw new OneTimeError('INTERNAL', 'The server sent no body.');
  return response.body;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
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
