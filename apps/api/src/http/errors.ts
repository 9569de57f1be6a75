import type { ErrorRequestHandler } from 'express';
import multer from 'multer';
import { AppError, errorBody, type ErrorCode } from '@one-time/core';
import type { Log } from '@one-time/service';

const MULTER_CODES: Record<multer.ErrorCode, ErrorCode> = {
  LIMIT_PART_COUNT: 'BAD_REQUEST',
  LIMIT_FILE_SIZE: 'PAYLOAD_TOO_LARGE',
  LIMIT_FILE_COUNT: 'TOO_MANY_FILES',
  LIMIT_FIELD_KEY: 'BAD_REQUEST',
  LIMIT_FIELD_VALUE: 'BAD_REQUEST',
  LIMIT_FIELD_COUNT: 'BAD_REQUEST',
  LIMIT_UNEXPECTED_FILE: 'BAD_REQUEST',
  MISSING_FIELD_NAME: 'BAD_REQUEST',
};

/** Errors from parsing a request body are the client's: anything unrecognised there is a malformed upload. */
export function fromBodyParsing(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof multer.MulterError) {
    return new AppError(MULTER_CODES[error.code] ?? 'BAD_REQUEST', `${error.message}${error.field ? ` (${error.field})` : ''}.`, {
      cause: error,
    });
  }
  return new AppError('MALFORMED_UPLOAD', undefined, { cause: error });
}

/** Express-level errors that carry a 4xx status (e.g. from the JSON body parser). */
function fromHttpError(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', undefined, { cause: error });
  return new AppError('BAD_REQUEST', undefined, { cause: error });
}

/** The one place an error becomes an HTTP answer: status from the error table, body `{ error: { code, message } }`. */
export function errorHandler(log: Log): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError =
      error instanceof AppError ? error : (fromHttpError(error) ?? new AppError('INTERNAL', undefined, { cause: error }));
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
