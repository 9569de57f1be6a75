import { Readable } from 'node:stream';
import { recycleChunk } from '@one-time/crypto';

/**
 * Bytes `from`…`to` (inclusive) of `source`, which starts at byte `sourceStart`: the bytes before are read and
 * dropped (an encrypted blob can only be decrypted from its start), and the source is closed once `to` is
 * reached, so a range that ends early stops reading there.
 */
export function byteRange(source: Readable, sourceStart: number, from: number, to: number): Readable {
  return Readable.from(
    (async function* () {
      let position = sourceStart;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const start = Math.max(0, from - position);
        const end = Math.min(chunk.length, to + 1 - position);
        position += chunk.length;
        if (end > start) yield start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
        else recycleChunk(chunk); // skipped (a resume decrypts and discards what comes before its offset)
        if (position > to) return; // leaving the loop destroys the source
      }
    })(),
    { objectMode: false },
  );
}
