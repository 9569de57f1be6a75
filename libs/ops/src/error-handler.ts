import type { ErrorRequestHandler } from 'express';
import { AppError, errorBody, type Logger } from '@one-time/core';

/**
 * What an error thrown anywhere becomes: an `AppError` as it is; an Express-level error that carries a 4xx
 * status (the JSON body parser's, say) the client's mistake; anything else the server's. One mapping for the
 * answer and for the metrics' reasons.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', undefined, { cause: error });
  }
  return new AppError('INTERNAL', undefined, { cause: error });
}

/**
 * The one place an error becomes an HTTP answer, on both ports: status from the error table, body
 * `{ error: { code, message } }`, never a stack or an internal message.
 */
export function errorHandler(log: Pick<Logger, 'error'>): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) log.error({ err: error, code: appError.code }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The body was not read to the end: the connection cannot carry another request.
    if (!req.complete) res.setHeader('Connection', 'close');
    if (appError.code === 'RATE_LIMITED' && typeof appError.details?.retryAfterSeconds === 'number') {
      res.setHeader('Retry-After', String(appError.details.retryAfterSeconds));
    }
    res.status(appError.status).json(errorBody(appError));
  };
}
