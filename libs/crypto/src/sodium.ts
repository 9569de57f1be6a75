import { createRequire } from 'node:module';

/** The part of sodium-native (which ships no type declarations) this package uses. */
export interface Sodium {
  readonly crypto_secretstream_xchacha20poly1305_HEADERBYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_ABYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_KEYBYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_STATEBYTES: number;
  readonly crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: number;
  readonly crypto_secretstream_xchacha20poly1305_TAG_FINAL: number;
  crypto_secretstream_xchacha20poly1305_init_push(state: Buffer, header: Buffer, key: Buffer): void;
  crypto_secretstream_xchacha20poly1305_push(state: Buffer, c: Buffer, m: Buffer, ad: Buffer | null, tag: number): number;
  crypto_secretstream_xchacha20poly1305_init_pull(state: Buffer, header: Buffer, key: Buffer): void;
  crypto_secretstream_xchacha20poly1305_pull(state: Buffer, m: Buffer, tag: Buffer, c: Buffer, ad: Buffer | null): number;
  readonly crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: number;
  readonly crypto_aead_xchacha20poly1305_ietf_ABYTES: number;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: Buffer,
    m: Buffer,
    ad: Buffer | null,
    nsec: null,
    npub: Buffer,
    k: Buffer,
  ): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Buffer,
    nsec: null,
    c: Buffer,
    ad: Buffer | null,
    npub: Buffer,
    k: Buffer,
  ): number;
  randombytes_buf(buffer: Buffer): void;
}

export const sodium = createRequire(import.meta.url)('sodium-native') as Sodium;
