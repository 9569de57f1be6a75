import { OneTimeError } from '@one-time/client';
import { formatBytes } from './format.ts';

export interface MessageContext {
  readonly maxUploadBytes?: number;
  readonly maxFilesPerUpload?: number;
}

/** Every failure in words a person can act on; never a bare status code. */
export function errorMessage(error: unknown, context: MessageContext = {}): string {
  if (!(error instanceof OneTimeError)) {
    if (error instanceof DOMException && error.name === 'AbortError') return 'The upload was cancelled.';
    return 'Something went wrong in this page. Reload it and try again.';
  }
  switch (error.code) {
    case 'NETWORK':
      return 'The server cannot be reached. Check your connection, or try again in a few minutes.';
    case 'PAYLOAD_TOO_LARGE':
      return context.maxUploadBytes === undefined
        ? 'That is too big for this server.'
        : `That is too big: this server takes up to ${formatBytes(context.maxUploadBytes)} per upload.`;
    case 'TOO_MANY_FILES':
      return context.maxFilesPerUpload === undefined
        ? 'Too many files in one upload.'
        : `Too many files: up to ${context.maxFilesPerUpload} per upload.`;
    case 'RATE_LIMITED':
      return error.retryAfterSeconds === undefined
        ? 'Too many requests from your network just now. Wait a minute and try again.'
        : `Too many requests from your network just now. Try again in ${waitText(error.retryAfterSeconds)}.`;
    case 'UNSUPPORTED_TYPE':
      return 'This server does not accept files of that type.';
    case 'STORAGE_FULL':
      return 'The server has no room for this file right now. Nothing was kept; try again later.';
    case 'STORAGE_UNAVAILABLE':
    case 'DATABASE_UNAVAILABLE':
    case 'INTERNAL':
      return 'The server has a problem right now. Nothing was kept; try again in a few minutes.';
    case 'UPLOAD_TIMEOUT':
      return 'The upload took too long and was stopped. Try again on a faster connection.';
    case 'NOT_FOUND':
    case 'INVALID_CODE':
      return 'This file is not available.';
    case 'CHUNK_BUSY':
    case 'CHUNKS_MISSING':
      return 'The upload could not be finished: part of it did not reach the server. Try again.';
    case 'E2E_KEY_MISSING':
      return 'This link is missing its key (the part after #). Ask the sender for the whole link.';
    case 'E2E_KEY_WRONG':
      return 'The key in this link does not match the file. Check that you copied the whole link, or ask the sender for it again.';
    case 'E2E_DECRYPT_FAILED':
      return 'The file could not be decrypted: its bytes were damaged or altered, so nothing usable was saved.';
    case 'RANGE_NOT_SATISFIABLE':
      return 'The download could not continue from where it stopped. Start it again.';
    case 'BAD_REQUEST':
    case 'NO_FILE':
    case 'MALFORMED_UPLOAD':
    case 'UPLOAD_INCOMPLETE':
    case 'NOT_MULTIPART':
    case 'FORBIDDEN':
    case 'UNAUTHORIZED':
      return `The server refused it: ${error.message}`;
  }
  // Codes from outside (a `?error=` in the landing page's address) may be anything.
  return 'Something went wrong. Try again.';
}

function waitText(seconds: number): string {
  if (seconds < 60) return `${Math.max(seconds, 1)} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
