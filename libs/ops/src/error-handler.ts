import type { ErrorRequestHandler } from 'express';
import { AppError, errorBody, type Logger } from '@one-time/core';

/** The ops port's errors in the API's shape, `{ error: { code, message } }`, statuses from the same table. */
export function opsErrorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const appError = error instanceof AppError ? error : new AppError('INTERNAL', undefined, { cause: error });
    if (appError.status >= 500) log.error({ err: error }, 'ops request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(appError.status).json(errorBody(appError));
  };
}
