import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 16 random bytes = 128 bits from the OS CSPRNG, base64url without padding: 22 URL-safe characters. */
const CODE_BYTES = 16;
const CODE_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const TOKEN_BYTES = 24;

export function generateCode(): string {
  return randomBytes(CODE_BYTES).toString('base64url');
}

/** Purely syntactic: lets a malformed code be rejected before any database call. */
export function isWellFormedCode(value: string): boolean {
  return CODE_PATTERN.test(value);
}

/**
 * The id a file is stored under (MongoDB `_id`, blob names, job ids). A one-way, domain-separated hash of the
 * code, so whoever reads the database, the blobs or Redis cannot turn it back into a working code.
 */
export function fileIdForCode(code: string): string {
  return createHash('sha256').update('one-time/file-id/v1\0').update(code).digest('base64url');
}

const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export function isFileId(value: string): boolean {
  return FILE_ID_PATTERN.test(value);
}

export function generateDeleteToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Delete tokens are stored only as this hash. */
export function hashDeleteToken(token: string): string {
  return createHash('sha256').update('one-time/delete-token/v1\0').update(token).digest('base64url');
}

export function deleteTokenMatches(token: string, storedHash: string): boolean {
  const actual = Buffer.from(hashDeleteToken(token));
  const expected = Buffer.from(storedHash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
