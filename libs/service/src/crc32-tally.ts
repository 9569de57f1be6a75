import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';

/** Passes data through unchanged while computing its CRC-32 (the zip of a multi-file download needs it). */
export class Crc32Tally extends Transform {
  #value = 0;

  get value(): number {
    return this.#value;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#value = crc32(chunk, this.#value);
    done(null, chunk);
  }
}
