import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** 16 random bytes = 128 bits from the OS CSPRNG, base64url without padding: 22 URL-safe characters. */
const CODE_BYTES = 16;
const CODE_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const TOKEN_BYTES = 24;
/** 256 bits: the session secret lets its holder finish a download, so it is as hard to guess as the code. */
const SESSION_SECRET_BYTES = 32;
const SESSION_SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const ENTITY_TAG_BYTES = 12;

export function generateCode(): string {
  return randomBytes(CODE_BYTES).toString('base64url');
}

/** Purely syntactic: lets a malformed code be rejected before any database call. */
export function isWellFormedCode(value: string): boolean {
  return CODE_PATTERN.test(value);
}

/**
 * The code is the only secret; everything else is derived from it with HKDF-SHA256, domain-separated by
 * `info`, so the two outputs are independent and neither leads back to the code.
 */
function derive(code: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', code, 'one-time/v1', `one-time/${purpose}`, 32));
}

/** The id a file is stored under (record id, blob names, job ids). Cannot be turned back into the code. */
export function fileIdForCode(code: string): string {
  return derive(code, 'file-id').toString('base64url');
}

/** The key that encrypts the file's content and metadata. Never stored anywhere. */
export function fileKeyForCode(code: string): Buffer {
  return derive(code, 'file-key');
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

/** A download session's secret: handed to the claimant (cookie and header), never stored. */
export function generateSessionSecret(): string {
  return randomBytes(SESSION_SECRET_BYTES).toString('base64url');
}

/** Sessions are stored and looked up only by this hash of their secret. */
export function sessionIdForSecret(secret: string): string {
  return createHash('sha256').update('one-time/download-session/v1\0').update(secret).digest('base64url');
}

/** Purely syntactic, like `isWellFormedCode`: a malformed secret is refused without a database call. */
export function isWellFormedSessionSecret(value: string): boolean {
  return SESSION_SECRET_PATTERN.test(value);
}

/** A strong validator for a file's bytes: random, so it says nothing about the code or the content. */
export function generateEntityTag(): string {
  return randomBytes(ENTITY_TAG_BYTES).toString('base64url');
}
