import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { AppError } from '@one-time/core';
import { describeSqliteError } from './sqlite-errors.ts';

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (or creates) the database file and sets up the connection. Fails with `DATABASE_UNAVAILABLE` naming
 * the file and the reason: a missing folder, a file that is not a database, or a lock held longer than the
 * busy timeout (SQLite waits that long, then gives up: never a hang).
 */
export function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  const file = resolve(path);
  const folder = dirname(file);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw cannotOpen(file, `the folder ${folder} does not exist`);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: busyTimeoutMs });
  } catch (error) {
    throw cannotOpen(file, describeSqliteError(error), error);
  }
  try {
    configure(db, busyTimeoutMs);
    return db;
  } catch (error) {
    db.close();
    throw cannotOpen(file, describeSqliteError(error), error);
  }
}

/**
 * - WAL: readers never wait for the writer, and a commit is one append (with synchronous=NORMAL, no fsync
 *   per commit; a power cut can lose the last commits but never corrupts the file).
 * - secure_delete: deleted rows are overwritten with zeros, so a purged record leaves no bytes in the pages
 *   (the WAL still holds old page images until a checkpoint: see WalCheckpointer).
 * - No foreign keys: there is a single table (parts are a JSON column; see schema.ts).
 */
function configure(db: DatabaseSync, busyTimeoutMs: number): void {
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
  // Reads page 1: a file that is not a database fails here rather than on the first request.
  db.prepare('SELECT count(*) FROM sqlite_schema').get();
  const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode;
  if (mode !== 'wal') throw new Error(`the journal mode stays '${String(mode)}' instead of 'wal'`);
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA secure_delete = ON');
}

function cannotOpen(file: string, reason: string, cause?: unknown): AppError {
  return new AppError('DATABASE_UNAVAILABLE', `Cannot open the SQLite database ${file}: ${reason}`, { cause });
}
