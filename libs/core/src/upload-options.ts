import type { Limits } from './config.ts';
import { formatDuration, parseTtlText } from './duration.ts';
import { AppError } from './errors.ts';

export interface UploadOptions {
  readonly ttlMs: number;
  readonly downloads: number;
}

export interface RawUploadOptions {
  readonly ttl?: unknown;
  readonly downloads?: unknown;
}

/** The only options an upload takes, as form fields or query parameters. */
export const UPLOAD_OPTION_NAMES: readonly string[] = ['ttl', 'downloads'];

/** A field sent twice (`?ttl=1h&ttl=2h`), or as a list or object (`downloads[]=2`), is refused, never guessed at. */
function single(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new AppError('BAD_REQUEST', `"${name}" must be given once, as text.`);
}

export function parseTtl(value: unknown, limits: Limits): number {
  const text = single('ttl', value);
  if (text === undefined || text === '') return limits.ttlDefaultMs;
  const ms = parseTtlText(text);
  const range = `from ${formatDuration(limits.ttlMinMs)} to ${formatDuration(limits.ttlMaxMs)}`;
  if (ms === undefined) {
    throw new AppError(
      'BAD_REQUEST',
      `"ttl" must be a whole number with a unit — s, m, h or d, such as 10m, 24h or 7d — ${range} (got "${text.slice(0, 40)}").`,
    );
  }
  if (ms < limits.ttlMinMs || ms > limits.ttlMaxMs) throw new AppError('BAD_REQUEST', `"ttl" must be ${range}.`);
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
 * Options may come as form fields or query parameters, not both with different values. The query is
 * validated before any byte is stored; unknown names are refused (a misspelt option must not pass unseen).
 */
export function parseUploadOptions(fields: RawUploadOptions, query: RawUploadOptions, limits: Limits): UploadOptions {
  return {
    ttlMs: parseTtl(oneOf('ttl', fields.ttl, query.ttl), limits),
    downloads: parseDownloads(oneOf('downloads', fields.downloads, query.downloads), limits),
  };
}

/** Refuses any name but the upload options; `where` names the source in the message ("form field", …). */
export function assertOnlyUploadOptions(where: string, values: Readonly<Record<string, unknown>>): void {
  const unknown = Object.keys(values).filter((name) => !UPLOAD_OPTION_NAMES.includes(name));
  if (unknown.length === 0) return;
  const listed = unknown
    .slice(0, 5)
    .map((name) => JSON.stringify(name.slice(0, 40)))
    .join(', ');
  throw new AppError('BAD_REQUEST', `Unknown ${where}${unknown.length > 1 ? 's' : ''}: ${listed}. Allowed: ttl, downloads.`);
}

function oneOf(name: string, field: unknown, query: unknown): unknown {
  if (field === undefined) return query;
  if (query !== undefined && single(name, field) !== single(name, query)) {
    throw new AppError('BAD_REQUEST', `"${name}" is given both as a form field and in the query, with different values.`);
  }
  return field;
}
