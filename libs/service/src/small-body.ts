import { finished, type Readable } from 'node:stream';
import { AppError } from '@one-time/core';

/**
 * Reads a body to its end when it ends within `max` bytes, and resolves it whole. A longer one resolves
 * undefined, with every byte read so far put back at its front (the stream paused), so it can be streamed from
 * its first byte as if untouched. A body that fails or is cut off rejects as UPLOAD_INCOMPLETE, as `feed` does.
 */
export function readIfSmall(source: Readable, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stop = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      stopWatching();
    };
    const onData = (chunk: Buffer | string): void => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(data);
      bytes += data.length;
      if (bytes <= max) return;
      stop();
      source.pause();
      source.unshift(Buffer.concat(chunks, bytes));
      resolve(undefined);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks, bytes));
    };
    const stopWatching = finished(source, { writable: false }, (error) => {
      if (!error) return; // the end is taken by `onEnd`
      stop();
      reject(new AppError('UPLOAD_INCOMPLETE', undefined, { cause: error }));
    });
    source.on('data', onData);
    source.once('end', onEnd);
  });
}
