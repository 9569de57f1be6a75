/**
 * The one shape a blob name may have: `<file id>/<part>`, the file id being 43 URL-safe base64 characters
 * and the part a small decimal number. Every adapter checks names against it before touching storage, so a
 * name can never reach outside the store (`..`, absolute paths, NUL, backslashes, extra segments).
 */
export const FILE_ID_PATTERN = '[A-Za-z0-9_-]{43}';
export const PART_PATTERN = '[0-9]{1,9}';
const BLOB_NAME = new RegExp(`^(${FILE_ID_PATTERN})/(${PART_PATTERN})$`);

/** What a blob name can start with; a prefix of any other shape matches no blob. */
const BLOB_NAME_PREFIX = /^(?:[A-Za-z0-9_-]{0,43}|[A-Za-z0-9_-]{43}\/[0-9]{0,9})$/;

export interface BlobNameParts {
  readonly fileId: string;
  readonly part: string;
}

export function parseBlobName(name: unknown): BlobNameParts | undefined {
  if (typeof name !== 'string') return undefined;
  const match = BLOB_NAME.exec(name);
  return match ? { fileId: match[1]!, part: match[2]! } : undefined;
}

export function isBlobName(name: unknown): name is string {
  return parseBlobName(name) !== undefined;
}

export function isBlobNamePrefix(prefix: string): boolean {
  return BLOB_NAME_PREFIX.test(prefix);
}

/** A refused name is a bug in the caller, never a storage condition: it surfaces as a `TypeError`. */
export function refuseName(name: unknown, expected = '<file id>/<part>'): TypeError {
  const shown = JSON.stringify(String(name).slice(0, 80));
  return new TypeError(`Refused blob name ${shown}: expected ${expected}.`);
}

export function assertBlobName(name: unknown): asserts name is string {
  if (!isBlobName(name)) throw refuseName(name);
}
