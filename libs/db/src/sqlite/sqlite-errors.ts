import { AppError } from '@one-time/core';

/** What node:sqlite attaches to its errors (`ERR_SQLITE_ERROR`). */
interface SqliteError extends Error {
  readonly errcode?: number;
  readonly errstr?: string;
}

/** Primary result codes (the low byte of an extended code) we give a plain-words reason for. */
const REASONS: Readonly<Record<number, string>> = {
  5: 'it is locked by another connection (SQLITE_BUSY)',
  6: 'a table is locked (SQLITE_LOCKED)',
  8: 'it is read-only (SQLITE_READONLY)',
  10: 'a disk I/O error occurred (SQLITE_IOERR)',
  11: 'the database file is corrupt (SQLITE_CORRUPT)',
  13: 'the disk is full (SQLITE_FULL)',
  14: 'the file cannot be opened (SQLITE_CANTOPEN)',
  26: 'the file is not a SQLite database or is corrupt (SQLITE_NOTADB)',
};

/** Any failure of a database call as `DATABASE_UNAVAILABLE`, with the SQLite error as its cause. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
}

/** A reason an operator can act on: the SQLite code in words, else the driver's own message. */
export function describeSqliteError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { errcode, errstr } = error as SqliteError;
  const reason = errcode === undefined ? undefined : REASONS[errcode & 0xff];
  if (reason) return `${reason}: ${error.message}`;
  return errstr && errstr !== error.message ? `${error.message} (${errstr})` : error.message;
}
