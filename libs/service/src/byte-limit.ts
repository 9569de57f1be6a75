import { Transform } from 'node:stream';
import { AppError } from '@one-time/core';

/**
 * Counts bytes into a shared tally (all parts of one upload) and fails the stream with PAYLOAD_TOO_LARGE the
 * moment the tally passes the cap, before the excess reaches storage.
 */
export class ByteLimit extends Transform {
  readonly #tally: { bytes: number };
  readonly #max: number;
  /** Bytes that passed through this stream (one part). */
  bytes = 0;

  constructor(tally: { bytes: number }, max: number) {
    super();
    this.#tally = tally;
    this.#max = max;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.#tally.bytes += chunk.length;
    this.bytes += chunk.length;
    if (this.#tally.bytes > this.#max) {
      done(new AppError('PAYLOAD_TOO_LARGE', undefined, { details: { maxBytes: this.#max } }));
      return;
    }
    done(null, chunk);
  }
}
