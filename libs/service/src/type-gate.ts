import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes data through unchanged, but holds it back until the first `headBytes` have arrived (or the stream
 * ended), then hands that head to `decide` once. The content type is known from the head alone, so a refused
 * type stops the upload there: nothing past the head is encrypted or stored. `decide` throws to refuse.
 */
export class TypeGate<T> extends Transform {
  readonly #headBytes: number;
  readonly #decide: (head: Buffer) => Promise<T>;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #decision: T | undefined;
  #decided = false;

  constructor(headBytes: number, decide: (head: Buffer) => Promise<T>) {
    super();
    this.#headBytes = headBytes;
    this.#decide = decide;
  }

  /** What `decide` returned; available once the stream has finished. */
  get decision(): T {
    if (!this.#decided) throw new Error('TypeGate: no decision before the head was seen');
    return this.#decision as T;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#decided) {
      done(null, chunk);
      return;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes < this.#headBytes) {
      done();
      return;
    }
    this.#release(done);
  }

  override _flush(done: TransformCallback): void {
    if (this.#decided) done();
    else this.#release(done);
  }

  #release(done: TransformCallback): void {
    const held = Buffer.concat(this.#held);
    this.#held = [];
    this.#decide(held.subarray(0, this.#headBytes)).then(
      (decision) => {
        this.#decision = decision;
        this.#decided = true;
        done(null, held.length > 0 ? held : undefined);
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  }
}
