/**
 * Domain errors. Code anywhere in the project throws `AppError(code)`; the HTTP layer (REST and, later, tRPC)
 * translates the code through the single table below. Nothing branches on message text.
 */
export const ERROR_TABLE = {
  BAD_REQUEST: { status: 400, trpc: 'BAD_REQUEST', message: 'The request is not valid.' },
  INVALID_CODE: { status: 400, trpc: 'BAD_REQUEST', message: 'That is not a well-formed code.' },
  NO_FILE: { status: 400, trpc: 'BAD_REQUEST', message: 'The upload holds no file.' },
  TOO_MANY_FILES: { status: 400, trpc: 'BAD_REQUEST', message: 'Too many files in one upload.' },
  MALFORMED_UPLOAD: { status: 400, trpc: 'BAD_REQUEST', message: 'The upload body could not be read.' },
  UPLOAD_INCOMPLETE: { status: 400, trpc: 'BAD_REQUEST', message: 'The upload ended before the file was complete.' },
  NOT_MULTIPART: {
    status: 415,
    trpc: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Send the file as multipart/form-data, or PUT the raw bytes to /upload/<name>.',
  },
  UNSUPPORTED_TYPE: { status: 415, trpc: 'UNSUPPORTED_MEDIA_TYPE', message: 'Files of this type are not accepted here.' },
  NOT_FOUND: {
    status: 404,
    trpc: 'NOT_FOUND',
    message: 'No file here: the code is unknown, used up, expired or revoked.',
  },
  CHUNKS_MISSING: { status: 409, trpc: 'CONFLICT', message: 'Some chunks of this upload are not stored yet.' },
  CHUNK_BUSY: { status: 409, trpc: 'CONFLICT', message: 'This chunk is being sent already; try again once that ends.' },
  UNAUTHORIZED: { status: 401, trpc: 'UNAUTHORIZED', message: 'Credentials are missing or wrong.' },
  FORBIDDEN: { status: 403, trpc: 'FORBIDDEN', message: 'That delete token does not match.' },
  PAYLOAD_TOO_LARGE: { status: 413, trpc: 'PAYLOAD_TOO_LARGE', message: 'The upload is larger than this server accepts.' },
  // 416 over REST; tRPC has no such code, and no procedure serves bytes.
  RANGE_NOT_SATISFIABLE: { status: 416, trpc: 'BAD_REQUEST', message: 'The requested range lies outside the file.' },
  UPLOAD_TIMEOUT: { status: 408, trpc: 'TIMEOUT', message: 'The upload took longer than this server allows.' },
  RATE_LIMITED: { status: 429, trpc: 'TOO_MANY_REQUESTS', message: 'Too many requests; try again later.' },
  STORAGE_UNAVAILABLE: { status: 503, trpc: 'SERVICE_UNAVAILABLE', message: 'File storage is not available right now.' },
  // 507 over REST; tRPC has no such code, and no procedure stores files.
  STORAGE_FULL: { status: 507, trpc: 'SERVICE_UNAVAILABLE', message: 'File storage is full; try again later.' },
  DATABASE_UNAVAILABLE: { status: 503, trpc: 'SERVICE_UNAVAILABLE', message: 'The database is not available right now.' },
  INTERNAL: { status: 500, trpc: 'INTERNAL_SERVER_ERROR', message: 'Something went wrong on the server.' },
} as const satisfies Record<string, { status: number; trpc: string; message: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? ERROR_TABLE[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** The JSON body every error response carries. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(error: AppError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}
