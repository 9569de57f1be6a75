/** A part to send: bytes from a Blob, a byte array, or any async source of bytes (Node streams included). */
export interface Part {
  readonly name: string;
  readonly bytes: Blob | Uint8Array | AsyncIterable<Uint8Array>;
}

const encoder = new TextEncoder();

function quoted(value: string): string {
  return value.replace(/["\r\n\\]/g, '_');
}

/** A streamed multipart/form-data body (field `file` for every part), counting bytes as they are sent. */
export function multipartBody(
  parts: readonly Part[],
  onBytes: (count: number) => void,
): { body: AsyncIterable<Uint8Array>; contentType: string } {
  const boundary = `one-time-${crypto.randomUUID()}`;
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      yield encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(part.name)}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      );
      for await (const chunk of chunksOf(part.bytes)) {
        onBytes(chunk.length);
        yield chunk;
      }
      yield encoder.encode('\r\n');
    }
    yield encoder.encode(`--${boundary}--\r\n`);
  }
  return { body: body(), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function* chunksOf(bytes: Part['bytes']): AsyncGenerator<Uint8Array> {
  if (bytes instanceof Uint8Array) yield bytes;
  else if (bytes instanceof Blob) yield* bytes.stream() as unknown as AsyncIterable<Uint8Array>;
  else yield* bytes;
}
