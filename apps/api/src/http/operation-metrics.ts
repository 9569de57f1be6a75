import type { ErrorRequestHandler, RequestHandler } from 'express';
import { toAppError, type ApiMetrics, type OperationResult } from '@one-time/ops';
import { operationOf } from './route-table.ts';

/** Counts each operation and times it, from the request's arrival to the moment its response closes. */
export function operationMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const operation = operationOf(req.method, req.path);
    if (operation !== undefined) {
      const finished = metrics.started(operation);
      res.once('close', () => finished(resultOf(res.writableFinished, res.statusCode)));
    }
    next();
  };
}

function resultOf(complete: boolean, status: number): OperationResult {
  if (!complete) return 'aborted';
  return status >= 500 ? 'failed' : status >= 400 ? 'rejected' : 'ok';
}

/** Counts every error answer by operation and error code, then hands the error on to the one error handler. */
export function countRejects(metrics: ApiMetrics): ErrorRequestHandler {
  return (error: unknown, req, _res, next) => {
    metrics.rejected(operationOf(req.method, req.path) ?? 'other', reasonOf(error));
    next(error);
  };
}

/** The error table's code the answer carries. */
export function reasonOf(error: unknown): string {
  return toAppError(error).code;
}
