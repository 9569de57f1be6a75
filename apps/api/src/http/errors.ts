import multer from 'multer';
import { AppError, type ErrorCode } from '@one-time/core';

const MULTER_CODES: Record<multer.ErrorCode, ErrorCode> = {
  LIMIT_PART_COUNT: 'BAD_REQUEST',
  LIMIT_FILE_SIZE: 'PAYLOAD_TOO_LARGE',
  LIMIT_FILE_COUNT: 'TOO_MANY_FILES',
  LIMIT_FIELD_KEY: 'BAD_REQUEST',
  LIMIT_FIELD_VALUE: 'BAD_REQUEST',
  LIMIT_FIELD_COUNT: 'BAD_REQUEST',
  LIMIT_UNEXPECTED_FILE: 'BAD_REQUEST',
  MISSING_FIELD_NAME: 'BAD_REQUEST',
};

/** Errors from parsing a request body are the client's: anything unrecognised there is a malformed upload. */
export function fromBodyParsing(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof multer.MulterError) {
    return new AppError(MULTER_CODES[error.code] ?? 'BAD_REQUEST', `${error.message}${error.field ? ` (${error.field})` : ''}.`, {
      cause: error,
    });
  }
  return new AppError('MALFORMED_UPLOAD', undefined, { cause: error });
}
