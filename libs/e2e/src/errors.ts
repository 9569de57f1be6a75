/**
 * Typed failures, so callers can tell the user something precise ("the link is incomplete", "the file was
 * damaged") without parsing messages. Each carries a `reason` union that callers can switch on exhaustively.
 */

export type E2EKeyErrorReason = 'missing' | 'malformed' | 'wrong';

/** The key is absent from the link, is not a well-formed key, or does not open what it was given. */
export class E2EKeyError extends Error {
  readonly reason: E2EKeyErrorReason;
  constructor(reason: E2EKeyErrorReason, message: string) {
    super(message);
    this.name = 'E2EKeyError';
    this.reason = reason;
  }
}

/**
 * - `truncated`: the ciphertext ended before its final record (cut at a record boundary, inside the header,
 *   or with a tail too short to be a record).
 * - `tampered`: a record failed authentication: wrong key, altered/reordered/dropped bytes, or a cut inside a
 *   record (indistinguishable from an alteration).
 * - `format`: bytes that cannot be ours: bad header (record size out of range), a record without a valid
 *   padding delimiter, or data after the final record.
 */
export type E2EDecryptErrorReason = 'truncated' | 'tampered' | 'format';

/** Decrypting the content failed; the plaintext released so far must be discarded. */
export class E2EDecryptError extends Error {
  readonly reason: E2EDecryptErrorReason;
  constructor(reason: E2EDecryptErrorReason, message: string) {
    super(message);
    this.name = 'E2EDecryptError';
    this.reason = reason;
  }
}

/** A sealed value (metadata) is not well formed: bad encoding, unknown version, or a payload of the wrong shape. */
export class E2EFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'E2EFormatError';
  }
}
