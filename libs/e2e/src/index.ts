/**
 * @one-time/e2e: the end-to-end encryption format shared by the web page, its service worker and the CLI.
 * Content is RFC 8188 "aes128gcm" under a 16-byte key that lives only in the link's #fragment; metadata is
 * sealed under a key derived from the same one. Web Crypto and WHATWG streams only, so one source runs in Node
 * and in browsers. The format is specified in docs/e2e-format.md.
 */
export { DEFAULT_RECORD_SIZE } from './ece-params.ts';
export { generateKey, keyFromFragment, keyToFragment } from './key.ts';
export { encryptStream, type EncryptOptions } from './encrypt-stream.ts';
export { decryptStream } from './decrypt-stream.ts';
export { encryptedSize } from './size.ts';
export { MAX_SEALED_METADATA_LENGTH, openMetadata, sealMetadata, type E2EMetadata } from './metadata.ts';
export { E2EDecryptError, E2EFormatError, E2EKeyError, type E2EDecryptErrorReason, type E2EKeyErrorReason } from './errors.ts';
