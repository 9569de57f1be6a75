import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { recycleChunk } from '@one-time/crypto';

/**
 * `pipeline(source, res)`, except that each chunk is written with a callback, which runs once the socket has
 * taken its bytes: only then may the decrypting stream reuse the chunk's buffer (`recycleChunk`). The source
 * flows one chunk per 'data' event as under `pipe` (an async iterator would read whatever is buffered as one
 * concatenated copy). Ends the response after the last chunk; rejects if the source fails or the client goes
 * away, and the caller destroys the response, so a cut-off answer never looks complete.
 */
export async function writeStream(source: Readable, res: ServerResponse, onChunk: (bytes: number) => void): Promise<void> {
  source.on('data', (chunk: Buffer) => {
    onChunk(chunk.length);
    if (!res.write(chunk, () => recycleChunk(chunk))) source.pause();
  });
  res.on('drain', () => source.resume());
  const sent = finished(source).then(() => res.end());
  const answered = finished(res).catch((error: unknown) => {
    source.destroy(); // the client went away: stop reading and decrypting
    throw error;
  });
  await Promise.all([sent, answered]);
}
