/**
 * RFC 8188 "aes128gcm" decryption as a WHATWG TransformStream. Accepts any conforming input (any keyid, any
 * rs up to MAX_RECORD_SIZE, zero padding), not only what encryptStream writes, and releases each record's
 * plaintext only after its tag has been verified. The end of the message is proven by the 0x02 delimiter, so
 * a stream that ends without it errors: the consumer must treat the plaintext already received as void.
 *
 * Memory: at most one record is held back (a full record cannot be opened until more input, or the end,
 * tells whether it is the last one), plus the few records in Web Crypto (see record-window.ts). Records that
 * lie wholly inside an input chunk are handed to Web Crypto straight from the chunk, without a copy of ours.
 */
import { asBytes, webCryptoView } from './bytes.ts';
import { deriveRecordKeys, type RecordKeys } from './ece-keys.ts';
import {
  DELIMITER_LAST,
  DELIMITER_MORE,
  HEADER_BYTES,
  MAX_RECORD_SIZE,
  MIN_RECORD_BYTES,
  MIN_RECORD_SIZE,
  SALT_BYTES,
  TAG_BYTES,
  isValidRecordSize,
} from './ece-params.ts';
import { E2EDecryptError } from './errors.ts';
import { checkedKey } from './key.ts';
import { RecordWindow, recordsInFlight } from './record-window.ts';

/** The longest header: a 255-byte keyid. */
const MAX_HEADER_BYTES = HEADER_BYTES + 255;

export function decryptStream(key: Uint8Array): TransformStream<Uint8Array, Uint8Array> {
  const ikm = checkedKey(key);
  const header = new Uint8Array(MAX_HEADER_BYTES);
  let headerFilled = 0;
  let headerLength = HEADER_BYTES; // grows to include the keyid once idlen is known
  let keys: RecordKeys | undefined;
  let record = new Uint8Array(0); // allocated once rs is known
  let filled = 0;
  let seq = 0;
  let controller: TransformStreamDefaultController<Uint8Array>;
  let inFlight: RecordWindow;

  /** Reads the header from the start of `input`; returns how many bytes it used. */
  const takeHeader = async (input: Uint8Array): Promise<number> => {
    let used = 0;
    while (headerFilled < headerLength && used < input.length) {
      const take = Math.min(headerLength - headerFilled, input.length - used);
      header.set(input.subarray(used, used + take), headerFilled);
      headerFilled += take;
      used += take;
      if (headerFilled === HEADER_BYTES) {
        const recordSize = new DataView(header.buffer).getUint32(SALT_BYTES, false);
        if (!isValidRecordSize(recordSize)) {
          throw new E2EDecryptError('format', `record size ${recordSize} is outside ${MIN_RECORD_SIZE}..${MAX_RECORD_SIZE}`);
        }
        headerLength = HEADER_BYTES + (header[HEADER_BYTES - 1] ?? 0);
      }
    }
    if (headerFilled === headerLength) {
      // The keyid is read and ignored: the key is whatever the link carried.
      keys = await deriveRecordKeys(ikm, header.slice(0, SALT_BYTES));
      record = new Uint8Array(new DataView(header.buffer).getUint32(SALT_BYTES, false));
      inFlight = new RecordWindow(controller, recordsInFlight(record.length));
    }
    return used;
  };

  /**
   * Starts opening one record. Web Crypto copies `sealed` during this call, so the caller may reuse it at once;
   * the record's checks run when the result arrives.
   */
  const open = (sealed: Uint8Array, last: boolean): Promise<void> => {
    if (!keys) throw new Error('unreachable: a record before the header');
    const index = seq;
    seq += 1;
    const plain = crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: keys.nonce(index), tagLength: TAG_BYTES * 8 },
      keys.cek,
      webCryptoView(sealed),
    );
    return inFlight.add(
      plain.then(
        (bytes) => unpad(new Uint8Array(bytes), index, last),
        () => {
          throw new E2EDecryptError('tampered', `record ${index} failed authentication (wrong key, or altered data)`);
        },
      ),
    );
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    start(streamController) {
      controller = streamController;
    },
    async transform(chunk) {
      const input = asBytes(chunk);
      let offset = keys ? 0 : await takeHeader(input);
      const recordSize = record.length;
      while (offset < input.length) {
        // A held-back full record is not the last one: more input has arrived.
        if (filled === recordSize) {
          await open(record, false);
          filled = 0;
        }
        // A whole record with more input after it is opened straight from the chunk.
        if (filled === 0 && input.length - offset > recordSize) {
          await open(input.subarray(offset, offset + recordSize), false);
          offset += recordSize;
          continue;
        }
        const take = Math.min(recordSize - filled, input.length - offset);
        record.set(input.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
      }
    },
    async flush() {
      if (!keys) throw new E2EDecryptError('truncated', 'the content ends inside its header');
      // Input after a record always lands in `record`, so nothing held back means no record at all.
      if (filled === 0) throw new E2EDecryptError('truncated', 'the content has no records');
      if (filled < MIN_RECORD_BYTES) {
        await inFlight.drain(); // an earlier record's failure, if any, is the better report
        throw new E2EDecryptError('truncated', 'the content ends inside a record');
      }
      await open(record.subarray(0, filled), true);
      await inFlight.drain();
    },
  });
}

/** Strips the padding and checks the delimiter (RFC 8188 §2): 0x02 on the last record, 0x01 on the others. */
function unpad(plain: Uint8Array, index: number, last: boolean): Uint8Array {
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end -= 1;
  const delimiter = end >= 0 ? plain[end] : undefined;
  if (delimiter === DELIMITER_LAST && !last) throw new E2EDecryptError('format', `data after the final record (${index})`);
  if (delimiter === DELIMITER_MORE && last) throw new E2EDecryptError('truncated', 'the content ends before its final record');
  if (delimiter !== DELIMITER_LAST && delimiter !== DELIMITER_MORE) {
    throw new E2EDecryptError('format', `record ${index} has no valid padding delimiter`);
  }
  return plain.subarray(0, end);
}
