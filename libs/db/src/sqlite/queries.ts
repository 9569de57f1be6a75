/** A used-up file stays while one of its resume sessions is open (an expired one does not). */
const NO_OPEN_SESSION = `NOT EXISTS (SELECT 1 FROM download_sessions s WHERE s.file_id = files.id AND s.until > :now)`;

/**
 * Every statement the repository runs. Each state change is ONE conditional statement (never read-then-write),
 * so SQLite's write lock makes it atomic across connections and processes sharing the file. Named parameters
 * (`:id`, `:now`, …) are bound from plain objects.
 */
export const SQL = {
  createUpload: `
    INSERT INTO files (id, state, parts, size, created_at, expires_at, downloads_left, active_streams,
                       lease_until, delete_token_hash)
    VALUES (:id, 'uploading', :parts, 0, :createdAt, :deadline, 0, 0, NULL, :deleteTokenHash)`,

  addPart: `
    UPDATE files SET parts = json_insert(parts, '$[#]', json(:part))
    WHERE id = :id AND state = 'uploading'`,

  markReady: `
    UPDATE files SET state = 'ready', size = :size, parts = :parts, expires_at = :expiresAt,
                     downloads_left = :downloadsLeft
    WHERE id = :id AND state = 'uploading'`,

  deleteUpload: `DELETE FROM files WHERE id = :id AND state = 'uploading'`,

  findById: `SELECT * FROM files WHERE id = :id`,

  // max(): a second stream must not shorten the lease of one already in flight.
  claim: `
    UPDATE files SET downloads_left = downloads_left - 1,
                     active_streams = active_streams + 1,
                     lease_until = max(coalesce(lease_until, 0), :leaseUntil)
    WHERE id = :id AND state = 'ready' AND downloads_left > 0 AND expires_at > :now
    RETURNING *`,

  // The claim is held; the session row is its own (no record change), so this is a plain insert.
  openSession: `INSERT INTO download_sessions (id, file_id, until) VALUES (:session, :id, :until)`,

  // A stream, not a download: the session must be open and the file still available.
  resume: `
    UPDATE files SET active_streams = active_streams + 1,
                     lease_until = max(coalesce(lease_until, 0), :leaseUntil)
    WHERE id = :id AND state = 'ready' AND expires_at > :now
      AND EXISTS (SELECT 1 FROM download_sessions s WHERE s.id = :session AND s.file_id = :id AND s.until > :now)
    RETURNING *`,

  closeSession: `DELETE FROM download_sessions WHERE id = :session`,

  // Only while `ready`: a give-back that races a purge must not make the file downloadable again.
  releaseClaim: `
    UPDATE files SET downloads_left = downloads_left + 1, active_streams = active_streams - 1
    WHERE id = :id AND state = 'ready' AND active_streams > 0`,

  renewLease: `
    UPDATE files SET lease_until = max(coalesce(lease_until, 0), :leaseUntil)
    WHERE id = :id AND active_streams > 0`,

  // Due: the last stream of an expired file, or of a used-up one with no session open, closed. A record already `purging` is not handed out
  // again: its purge has an owner, and if that one died the sweeper resumes it.
  endStream: `
    UPDATE files SET active_streams = active_streams - 1
    WHERE id = :id AND active_streams > 0
    RETURNING state = 'ready' AND active_streams <= 0
              AND (expires_at <= :now OR (downloads_left <= 0 AND ${NO_OPEN_SESSION})) AS due`,

  // min(): revoking never pushes an expiry later, so "oldest expiry first" stays true.
  expireNow: `UPDATE files SET expires_at = min(expires_at, :now) WHERE id = :id AND state = 'ready'`,

  // Due (expired, used up, or already purging) AND not held by a stream with a fresh lease.
  beginPurge: `
    UPDATE files SET state = 'purging'
    WHERE id = :id
      AND (expires_at <= :now OR (state = 'ready' AND downloads_left <= 0 AND ${NO_OPEN_SESSION}) OR state = 'purging')
      AND (active_streams <= 0 OR lease_until < :now OR state = 'purging')
    RETURNING *`,

  deletePurged: `DELETE FROM files WHERE id = :id AND state = 'purging'`,

  // Two index range scans merged in expiry order (MERGE (UNION) in the plan), deduplicated by UNION, and cut
  // at :limit without sorting: each half walks its own index (files_by_expiry, files_used_up).
  findDue: `
    SELECT id, expires_at FROM files WHERE expires_at <= :now
    UNION
    SELECT id, expires_at FROM files WHERE downloads_left <= 0 AND state <> 'uploading'
      AND (state = 'purging' OR ${NO_OPEN_SESSION})
    ORDER BY expires_at, id
    LIMIT :limit`,

  // The files of one expiry slot: a range of files_by_expiry (covering), in its order.
  findExpiring: `
    SELECT id FROM files WHERE expires_at > :after AND expires_at <= :until
    ORDER BY expires_at, id
    LIMIT :limit`,

  // One statement whatever the number of ids: they travel as one JSON array.
  existingIds: `SELECT id FROM files WHERE id IN (SELECT value FROM json_each(:ids))`,

  ping: `SELECT 1`,

  checkpoint: `PRAGMA wal_checkpoint(TRUNCATE)`,
} as const;

export type QueryName = keyof typeof SQL;
