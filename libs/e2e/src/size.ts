/**
 * The exact ciphertext length encryptStream produces, so uploads can declare their length up front and the
 * server can check it. Each record adds a 16-byte tag and a 1-byte delimiter; an empty file is one record.
 */
import {
  DEFAULT_RECORD_SIZE,
  HEADER_BYTES,
  MAX_RECORD_SIZE,
  MIN_RECORD_BYTES,
  MIN_RECORD_SIZE,
  isValidRecordSize,
} from './ece-params.ts';

export function encryptedSize(plainSize: number, recordSize: number = DEFAULT_RECORD_SIZE): number {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new RangeError('plainSize must be a non-negative integer');
  if (!isValidRecordSize(recordSize)) {
    throw new RangeError(`recordSize must be an integer from ${MIN_RECORD_SIZE} to ${MAX_RECORD_SIZE}`);
  }
  const records = Math.max(1, Math.ceil(plainSize / (recordSize - MIN_RECORD_BYTES)));
  return HEADER_BYTES + plainSize + records * MIN_RECORD_BYTES;
}
