import { OneTimeError } from './one-time-error.ts';

/**
 * Answers worth another try: a lost connection, a server or store that is briefly away, a rate limit, a chunk
 * still being written by a request the client gave up on, a chunk the server got only part of.
 */
const RETRYABLE: ReadonlySet<string> = new Set([
  'NETWORK',
  'INTERNAL',
  'STORAGE_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'RATE_LIMITED',
  'UPLOAD_TIMEOUT',
  'CHUNK_BUSY',
  'UPLOAD_INCOMPLETE',
]);

/** A `Retry-After` longer than this is not waited for in full: the next try tells whether it still holds. */
const MAX_RETRY_AFTER_MS = 60_000;

export function retryable(error: unknown): error is OneTimeError {
  return error instanceof OneTimeError && (RETRYABLE.has(error.code) || (error.status ?? 0) >= 502);
}

export interface RetryPolicy {
  /** Tries after the first. */
  readonly retries: number;
  /** Before the first retry, doubled for each next one (a `Retry-After` wins). */
  readonly delayMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Tries `attempt` until it succeeds, fails for good, or the retries are used up; `onRetry` runs before each retry. */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  onRetry?: (attempt: number, error: OneTimeError) => Promise<void> | void,
): Promise<T> {
  const { signal } = policy;
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (!retryable(error) || tries >= policy.retries) throw error;
      const wait =
        error.retryAfterSeconds === undefined
          ? policy.delayMs * 2 ** tries
          : Math.min(error.retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS);
      await sleep(wait, signal);
      await onRetry?.(tries + 1, error);
    }
  }
}

/** Why `signal` aborted, as an Error (an AbortError when no reason was given). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('The upload was aborted.', 'AbortError');
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
