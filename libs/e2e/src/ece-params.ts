/**
 * The fixed parameters of RFC 8188 "aes128gcm" and its header:
 *   salt (16) ‖ rs (uint32 big-endian) ‖ idlen (1) ‖ keyid (idlen)
 * A record is AES-128-GCM(data ‖ delimiter ‖ zero padding): rs bytes, the last one possibly shorter.
 */

export const SALT_BYTES = 16;
/** salt + rs + idlen: the header we write (keyid is empty: the key travels in the link, not by name). */
export const HEADER_BYTES = SALT_BYTES + 4 + 1;
export const TAG_BYTES = 16;
/** The smallest valid record: a delimiter and the tag (RFC 8188: rs below 18 is invalid). */
export const MIN_RECORD_BYTES = TAG_BYTES + 1;
export const MIN_RECORD_SIZE = MIN_RECORD_BYTES + 1;
/**
 * The decrypter buffers one whole record, and rs comes from untrusted bytes: cap it so a forged header cannot
 * make a page or service worker allocate gigabytes. Far above the 64 KiB we write.
 */
export const MAX_RECORD_SIZE = 16 * 1024 * 1024;
export const DEFAULT_RECORD_SIZE = 64 * 1024;

export const DELIMITER_MORE = 0x01;
export const DELIMITER_LAST = 0x02;

export function writeHeader(salt: Uint8Array, recordSize: number): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(SALT_BYTES, recordSize, false);
  header[SALT_BYTES + 4] = 0; // idlen
  return header;
}

export function isValidRecordSize(recordSize: number): boolean {
  return Number.isInteger(recordSize) && recordSize >= MIN_RECORD_SIZE && recordSize <= MAX_RECORD_SIZE;
}
