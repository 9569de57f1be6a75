import { AppError } from '@one-time/core';

/** The errno of a failed `fs` call, if it has one. */
export function errno(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The disk (or the quota, or the file size limit) ran out: the caller may retry later, elsewhere. */
const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * A failed filesystem call as the port reports it. Messages stay the generic ones: they may reach a client,
 * and the path inside the cause names a file id.
 */
export function storageError(error: unknown): Error {
  if (error instanceof AppError) return error;
  if (FULL.has(errno(error) ?? '')) return new AppError('STORAGE_FULL', undefined, { cause: error });
  return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
}

/** Runs a filesystem call, reporting its failure as a storage error. */
export async function io<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storageError(error);
  }
}

/** Why a folder cannot be used, in words for an operator reading the startup error. */
export function reason(error: unknown): string {
  switch (errno(error)) {
    case 'ENOENT':
      return 'it does not exist';
    case 'ENOTDIR':
      return 'part of its path is not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
