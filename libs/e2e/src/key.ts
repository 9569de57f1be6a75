/**
 * The file key: 16 random bytes that exist only in the browser/CLI of the sender and in the link's #fragment
 * (browsers never send the fragment to the server). 128 bits is what RFC 8188's AES-128-GCM needs as IKM and
 * keeps the link short: 22 base64url characters.
 */
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { E2EKeyError } from './errors.ts';

export const KEY_BYTES = 16;

export function generateKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

export function keyToFragment(key: Uint8Array): string {
  return encodeBase64url(checkedKey(key));
}

/** Reads the key from a URL fragment (`location.hash` or the text after '#'). */
export function keyFromFragment(fragment: string): Uint8Array {
  const text = fragment.startsWith('#') ? fragment.slice(1) : fragment;
  if (text === '') throw new E2EKeyError('missing', 'the link has no key (nothing after #)');
  const key = text.length === 22 ? decodeBase64url(text) : undefined;
  if (key === undefined) throw new E2EKeyError('malformed', 'the key in the link is not 22 base64url characters');
  return key;
}

/**
 * Every entry point checks the key it is handed: a key of the wrong length is a caller's bug that would
 * otherwise surface later as a confusing authentication failure. Returns a private copy backed by a plain
 * ArrayBuffer, which is what Web Crypto accepts (and the caller may reuse its array).
 */
export function checkedKey(key: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new E2EKeyError('malformed', `a key is ${KEY_BYTES} bytes`);
  }
  return new Uint8Array(key);
}
