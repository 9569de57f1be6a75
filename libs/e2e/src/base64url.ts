/**
 * Base64url without padding (RFC 4648 §5), strict on input. Written on top of btoa/atob because they exist in
 * every runtime we target (Node, pages, service workers); Uint8Array.fromBase64 is not yet everywhere. Only
 * small values pass through here (a key, sealed metadata), so the string building is not a hot path.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function encodeBase64url(bytes: Uint8Array): string {
  let binary = '';
  // fromCharCode takes its arguments on the stack: feed it in slices.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_');
}

/**
 * Returns undefined unless `text` is canonical base64url: alphabet only, no padding, no whitespace, a valid
 * length, and zero bits in the unused tail of the last character, so each byte string has exactly one encoding
 * (no second spelling of the same key or the same sealed value).
 */
export function decodeBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return encodeBase64url(bytes) === text ? bytes : undefined;
}
