/**
 * RFC 8188 "aes128gcm" encryption as a WHATWG TransformStream (the same code runs in Node, pages and service
 * workers). Output: the 21-byte header, then records of exactly `recordSize` bytes, the last one shorter or
 * equal. No padding beyond the delimiter, so the ciphertext length is a function of the plaintext length
 * (see encryptedSize).
 *
 * Memory: one record of plaintext is gathered in a reused buffer; each record's ciphertext is a fresh array
 * handed downstream as is; a few records are in Web Crypto at once (see record-window.ts). A full buffer is
 * sealed only once more input proves it is not the last record, so the last record carries the 0x02 delimiter
 * without a trailing empty record.
 */
import { asBytes } from './bytes.ts';
import { deriveRecordKeys, type RecordKeys } from './ece-keys.ts';
import {
  DEFAULT_RECORD_SIZE,
  DELIMITER_LAST,
  DELIMITER_MORE,
  MIN_RECORD_SIZE,
  MAX_RECORD_SIZE,
  SALT_BYTES,
  TAG_BYTES,
  isValidRecordSize,
  writeHeader,
} from './ece-params.ts';
import { checkedKey } from './key.ts';
import { RecordWindow, recordsInFlight } from './record-window.ts';

export interface EncryptOptions {
  /** rs, in bytes, including the 16-byte tag and the delimiter. Default 64 KiB. */
  readonly recordSize?: number;
  /** Only for test vectors: a salt must never repeat under one key. Default: 16 random bytes. */
  readonly salt?: Uint8Array;
}

export function encryptStream(key: Uint8Array, options: EncryptOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const ikm = checkedKey(key);
  const recordSize = options.recordSize ?? DEFAULT_RECORD_SIZE;
  if (!isValidRecordSize(recordSize)) {
    throw new RangeError(`recordSize must be an integer from ${MIN_RECORD_SIZE} to ${MAX_RECORD_SIZE}`);
  }
  if (options.salt !== undefined && options.salt.length !== SALT_BYTES) throw new RangeError(`salt must be ${SALT_BYTES} bytes`);
  const salt = options.salt ? new Uint8Array(options.salt) : crypto.getRandomValues(new Uint8Array(SALT_BYTES));

  const dataPerRecord = recordSize - TAG_BYTES - 1;
  // data ‖ delimiter: the delimiter is written in place, so sealing needs no extra copy.
  const record = new Uint8Array(dataPerRecord + 1);
  let filled = 0;
  let seq = 0;
  let keys: RecordKeys;
  let inFlight: RecordWindow;

  const seal = (last: boolean): Promise<void> => {
    record[filled] = last ? DELIMITER_LAST : DELIMITER_MORE;
    // Web Crypto copies its input during the call, so `record` is refilled while this record is in flight.
    const sealed = crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: keys.nonce(seq), tagLength: TAG_BYTES * 8 },
      keys.cek,
      record.subarray(0, filled + 1),
    );
    seq += 1;
    filled = 0;
    return inFlight.add(sealed.then((bytes) => new Uint8Array(bytes)));
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      inFlight = new RecordWindow(controller, recordsInFlight(recordSize));
      keys = await deriveRecordKeys(ikm, salt);
      controller.enqueue(writeHeader(salt, recordSize));
    },
    async transform(chunk) {
      const input = asBytes(chunk);
      let offset = 0;
      while (offset < input.length) {
        if (filled === dataPerRecord) await seal(false);
        const take = Math.min(dataPerRecord - filled, input.length - offset);
        record.set(input.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
      }
    },
    async flush() {
      // Also the empty file: one record holding only the final delimiter.
      await seal(true);
      await inFlight.drain();
    },
  });
}
