/** Small helpers for byte arrays shared by the stream transforms. */

/** Rejects what is not bytes early, with a clear message (a string or ArrayBuffer chunk is a caller's bug). */
export function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError('the stream takes Uint8Array chunks');
}

/**
 * Web Crypto takes views of a plain ArrayBuffer only. Chunks almost always are; a view of a SharedArrayBuffer
 * (or a foreign buffer type) is copied rather than refused.
 */
export function webCryptoView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
