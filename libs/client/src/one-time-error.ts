import type { ErrorCode } from '@one-time/core';

/**
 * Failures of end-to-end encrypted files, found by the client (the server cannot tell): the link has no key,
 * its key does not open the file (or is not a key at all), or the content does not decrypt (damaged, cut).
 */
export type E2EErrorCode = 'E2E_KEY_MISSING' | 'E2E_KEY_WRONG' | 'E2E_DECRYPT_FAILED';

/** Every failure of the client: the server's error code (the same for REST and tRPC), NETWORK, or an E2E code. */
export class OneTimeError extends Error {
  readonly code: ErrorCode | 'NETWORK' | E2EErrorCode;
  readonly status: number | undefined;
  /** From `Retry-After`, when the server said how long to wait (rate limits). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode | 'NETWORK' | E2EErrorCode,
    message: string,
    options: { status?: number; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OneTimeError';
    this.code = code;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Turns a REST error response (`{ error: { code, message } }`) into a OneTimeError. */
export async function errorFromResponse(response: Response): Promise<OneTimeError> {
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  const code = (body?.error?.code ?? 'INTERNAL') as ErrorCode;
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  return new OneTimeError(code, body?.error?.message ?? `HTTP ${response.status}`, {
    status: response.status,
    ...(Number.isInteger(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {}),
  });
}
