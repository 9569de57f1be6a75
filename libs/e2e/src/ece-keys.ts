/**
 * Per-message keys of RFC 8188 §2.2–2.3, derived with Web Crypto's HKDF-SHA-256 (salt from the header, IKM =
 * the file key): the content encryption key and the 12-byte nonce base. The CEK never leaves Web Crypto
 * (non-extractable). Record i is sealed under nonce base XOR i.
 */
import { SALT_BYTES } from './ece-params.ts';

const encoder = new TextEncoder();
const CEK_INFO = encoder.encode('Content-Encoding: aes128gcm\0');
const NONCE_INFO = encoder.encode('Content-Encoding: nonce\0');
export const NONCE_BYTES = 12;

export interface RecordKeys {
  readonly cek: CryptoKey;
  /** Returns the nonce of record `seq` (a fresh array: Web Crypto may read it after the call returns). */
  nonce(seq: number): Uint8Array<ArrayBuffer>;
}

export async function deriveRecordKeys(ikm: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>): Promise<RecordKeys> {
  if (salt.length !== SALT_BYTES) throw new RangeError(`the salt is ${SALT_BYTES} bytes`);
  const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey', 'deriveBits']);
  const cek = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: CEK_INFO },
    base,
    { name: 'AES-GCM', length: 128 },
    false,
    ['encrypt', 'decrypt'],
  );
  const nonceBase = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: NONCE_INFO }, base, NONCE_BYTES * 8),
  );
  return {
    cek,
    nonce(seq: number): Uint8Array<ArrayBuffer> {
      // SEQ is a 96-bit big-endian integer; a sequence number fits in the low 48 bits (2^48 records of at
      // least 18 bytes is far beyond any file), so only the last 6 bytes change.
      if (!Number.isSafeInteger(seq) || seq < 0 || seq >= 2 ** 48) throw new RangeError('record sequence out of range');
      const nonce = nonceBase.slice();
      const view = new DataView(nonce.buffer);
      view.setUint16(6, view.getUint16(6) ^ Math.floor(seq / 2 ** 32));
      view.setUint32(8, view.getUint32(8) ^ (seq % 2 ** 32));
      return nonce;
    },
  };
}
