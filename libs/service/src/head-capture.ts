import { Transform, type TransformCallback } from 'node:stream';

/** Passes data through unchanged while keeping a copy of its first `limit` bytes (for type sniffing). */
export class HeadCapture extends Transform {
  readonly #limit: number;
  #parts: Buffer[] = [];
  #bytes = 0;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  get head(): Buffer {
    return Buffer.concat(this.#parts).subarray(0, this.#limit);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#bytes < this.#limit) {
      this.#parts.push(chunk.subarray(0, this.#limit - this.#bytes));
      this.#bytes += Math.min(chunk.length, this.#limit - this.#bytes);
    }
    done(null, chunk);
  }
}
