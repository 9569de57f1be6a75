import { IntegrityError } from './secret-stream.ts';
import { sodium } from './sodium.ts';

const NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
const A_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;

/**
 * Seals small values (file names, content types) with XChaCha20-Poly1305 and a random nonce; `context` is
 * bound as associated data so a sealed value cannot be moved to another field or file.
 */
export function seal(key: Buffer, plain: string, context: string): string {
  const nonce = Buffer.alloc(NONCE_BYTES);
  sodium.randombytes_buf(nonce);
  const message = Buffer.from(plain, 'utf8');
  const cipher = Buffer.alloc(message.length + A_BYTES);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(cipher, message, Buffer.from(context), null, nonce, key);
  return Buffer.concat([nonce, cipher]).toString('base64url');
}

export function open(key: Buffer, sealed: string, context: string): string {
  const data = Buffer.from(sealed, 'base64url');
  if (data.length < NONCE_BYTES + A_BYTES) throw new IntegrityError('sealed value too short');
  const cipher = data.subarray(NONCE_BYTES);
  const plain = Buffer.alloc(cipher.length - A_BYTES);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plain,
      null,
      cipher,
      Buffer.from(context),
      data.subarray(0, NONCE_BYTES),
      key,
    );
  } catch {
    throw new IntegrityError('sealed value failed authentication');
  }
  return plain.toString('utf8');
}
