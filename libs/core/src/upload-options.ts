import type { Limits } from './config.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { AppError } from './errors.ts';

export interface UploadOptions {
  readonly ttlMs: number;
  readonly downloads: number;
}

export interface RawUploadOptions {
  readonly ttl?: unknown;
  readonly downloads?: unknown;
}

/** A field sent twice (`?ttl=1h&ttl=2h`) is ambiguous and refused rather than guessed at. */
function single(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new AppError('BAD_REQUEST', `"${name}" must be given once, as text.`);
}

export function parseTtl(value: unknown, limits: Limits): number {
  const text = single('ttl', value);
  if (text === undefined || text === '') return limits.ttlDefaultMs;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new AppError('BAD_REQUEST', `"ttl" must be a duration such as 10m, 24h or 7d (got "${text.slice(0, 40)}").`);
  }
  if (ms > limits.ttlMaxMs) {
    throw new AppError('BAD_REQUEST', `"ttl" may be at most ${formatDuration(limits.ttlMaxMs)}.`);
  }
  return ms;
}

export function parseDownloads(value: unknown, limits: Limits): number {
  const text = single('downloads', value);
  if (text === undefined || text === '') return limits.downloadsDefault;
  if (!/^\d{1,9}$/.test(text.trim())) {
    throw new AppError('BAD_REQUEST', `"downloads" must be a whole number from 1 to ${limits.downloadsMax}.`);
  }
  const downloads = Number(text.trim());
  if (downloads < 1 || downloads > limits.downloadsMax) {
    throw new AppError('BAD_REQUEST', `"downloads" must be a whole number from 1 to ${limits.downloadsMax}.`);
  }
  return downloads;
}

/**
 * Options may come as form fields or query parameters; a form field wins. Both are validated, so a bad query
 * parameter is refused before any byte is stored.
 */
export function parseUploadOptions(fields: RawUploadOptions, query: RawUploadOptions, limits: Limits): UploadOptions {
  return {
    ttlMs: parseTtl(fields.ttl ?? query.ttl, limits),
    downloads: parseDownloads(fields.downloads ?? query.downloads, limits),
  };
}
