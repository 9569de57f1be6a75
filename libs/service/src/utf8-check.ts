import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes data through unchanged while checking that all of it is valid UTF-8, so a text file can be served
 * with `charset=utf-8` only when that is true of every byte, not just of the sniffed head. Stops checking at
 * the first invalid byte; a character split across chunks is checked whole.
 */
export class Utf8Check extends Transform {
  #valid = true;
  #carry: Buffer | undefined;

  get valid(): boolean {
    return this.#valid && this.#carry === undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#valid) this.#check(this.#carry ? Buffer.concat([this.#carry, chunk]) : chunk);
    done(null, chunk);
  }

  #check(bytes: Buffer): void {
    const tail = incompleteTail(bytes);
    this.#valid = isUtf8(bytes.subarray(0, bytes.length - tail));
    this.#carry = tail > 0 ? Buffer.from(bytes.subarray(bytes.length - tail)) : undefined;
  }
}

/** How many bytes at the end start a multi-byte character that the next chunk completes (0 to 3). */
function incompleteTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead byte
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}
