/**
 * The tables behind `SqliteFileRepository`: files, and the resume sessions of their downloads. STRICT, so a wrong type is an error rather than a silent
 * conversion; dates are INTEGER milliseconds since the epoch.
 *
 * `parts` is a JSON array in a TEXT column rather than a child table: parts are only ever read and written
 * together with their record, never queried on their own. So `addPart` stays one conditional UPDATE (no
 * multi-statement transaction), `markReady` replaces the list in the same UPDATE that flips the state, every
 * read is one row without a join, and `deletePurged` removes everything in one DELETE: no foreign keys, no
 * cascade, no orphan rows that could outlive a purge.
 */
export const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS files (
    id TEXT NOT NULL PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('uploading', 'ready', 'purging')),
    parts TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(parts)),
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    downloads_left INTEGER NOT NULL,
    active_streams INTEGER NOT NULL,
    lease_until INTEGER,
    delete_token_hash TEXT NOT NULL
  ) STRICT;

  -- findDue, expired half: a range scan in expiry order; covering, so the table is never touched.
  CREATE INDEX IF NOT EXISTS files_by_expiry ON files (expires_at, id);

  -- findDue, used-up half: holds only the used-up rows (few at any time), in expiry order; covering.
  CREATE INDEX IF NOT EXISTS files_used_up ON files (expires_at, id, downloads_left, state)
    WHERE downloads_left <= 0 AND state <> 'uploading';

  -- Resume sessions: id is a one-way hash of the session's secret. A row outlives its window (it stops
  -- counting once its end passes) and goes with its file's record, in the same statement as the record.
  CREATE TABLE IF NOT EXISTS download_sessions (
    id TEXT NOT NULL PRIMARY KEY,
    file_id TEXT NOT NULL,
    until INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS download_sessions_by_file ON download_sessions (file_id, until);
  CREATE TRIGGER IF NOT EXISTS files_take_their_sessions AFTER DELETE ON files BEGIN
    DELETE FROM download_sessions WHERE file_id = old.id;
  END;
`;

/** The index names the due queries must use; the query-plan test checks them. */
export const DUE_INDEXES = ['files_by_expiry', 'files_used_up'] as const;
