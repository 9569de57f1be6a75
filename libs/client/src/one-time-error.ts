import type { ErrorCode } from '@one-time/core';

/** Every failure of the client: the server's error code (the same for REST and tRPC), or NETWORK. */
export class OneTimeError extends Error {
  readonly code: ErrorCode | 'NETWORK';
  readonly status: number | undefined;

  constructor(code: ErrorCode | 'NETWORK', message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OneTimeError';
    this.code = code;
    this.status = options.status;
  }
}

/** Turns a REST error response (`{ error: { code, message } }`) into a OneTimeError. */
export async function errorFromResponse(response: Response): Promise<OneTimeError> {
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  const code = (body?.error?.code ?? 'INTERNAL') as ErrorCode;
  return new OneTimeError(code, body?.error?.message ?? `HTTP ${response.status}`, { status: response.status });
}
