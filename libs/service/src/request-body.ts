import { finished, type Readable } from 'node:stream';
import { AppError } from '@one-time/core';
import type { ByteLimit } from './byte-limit.ts';

/**
 * Pipes the body into the limiter without `pipeline`, which would destroy the request (and so its socket) on
 * a limit error: here the rest of the body is drained instead, so the client still receives its 413.
 */
export function feed(source: Readable, limit: ByteLimit): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      source.unpipe(limit);
      limit.destroy(error);
      source.resume();
      reject(error);
    };
    limit.once('error', fail);
    finished(source, (error) => {
      if (error) fail(new AppError('UPLOAD_INCOMPLETE', undefined, { cause: error }));
      else if (!settled) {
        settled = true;
        resolve();
      }
    });
    source.pipe(limit);
  });
}

/** The domain error (size cap, storage down) explains a failure better than the stream error it caused. */
export function mostTelling(results: ReadonlyArray<PromiseSettledResult<unknown>>): unknown {
  const reasons = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  return reasons.find((reason) => reason instanceof AppError) ?? reasons[0];
}
