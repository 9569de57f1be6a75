/** Stream plumbing shared by the tests. */

export const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
export const fromB64u = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'));

/** Deterministic, non-repeating-looking content: byte i is i mod 251 (a prime, so records never line up). */
export function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  return bytes;
}

export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

/** Cuts `data` into pieces of the given sizes, cycling through them. */
export function cut(data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(data.slice(offset, offset + size));
    offset += size;
  }
  return pieces;
}

/** A stream that hands out `pieces` one per pull (ReadableStream.from is not in the DOM typings yet). */
export function streamOf(pieces: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces[next++];
      if (piece) controller.enqueue(piece);
      else controller.close();
    },
  });
}

/** Runs `pieces` through `transform` and gathers the output (rejects with the stream's error). */
export async function pipe(
  pieces: readonly Uint8Array[],
  transform: TransformStream<Uint8Array, Uint8Array>,
): Promise<Uint8Array> {
  const source = streamOf(pieces);
  const chunks: Uint8Array[] = [];
  await source.pipeThrough(transform).pipeTo(
    new WritableStream({
      write(chunk) {
        chunks.push(chunk);
      },
    }),
  );
  return concat(chunks);
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
