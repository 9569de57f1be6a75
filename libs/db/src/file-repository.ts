import type { FilePart, FileRecord } from '@one-time/core';

export interface NewUpload {
  readonly id: string;
  readonly deleteTokenHash: string;
  readonly createdAt: Date;
  /** The upload deadline: until the upload is finished, `expiresAt` holds it, so the sweeper finds stalls. */
  readonly deadline: Date;
  /** Parts known from the start (a chunked upload lists all its chunks' blobs before any is written). */
  readonly parts?: readonly FilePart[];
}

export interface ReadyFile {
  readonly size: number;
  readonly parts: readonly FilePart[];
  readonly expiresAt: Date;
  readonly downloadsLeft: number;
}

/**
 * One download taken by `claim`. Callers hand it back untouched to `renewLease`, `endStream` or
 * `releaseClaim`; `handle` is the adapter's own (a ticket, a row), meaningless anywhere else.
 */
export interface Claim {
  /** The record as the claim left it (one download fewer, one more stream in flight). */
  readonly file: FileRecord;
  readonly handle: string;
  /** The resume session this download runs under (the id `openSession` was given), once there is one. */
  readonly session?: string;
}

/**
 * The records behind uploads: the metadata port. Every state change is one conditional write, so two
 * processes (or replicas) can never both win the same transition. The contract every adapter passes lives in
 * `testing/file-repository-contract.ts`; vendor details (documents, tables, indexes) stay in the adapters.
 *
 * Invariants:
 * - `uploading` → `ready` → `purging` → deleted, never backwards: a claim, a give-back or a stream end that
 *   races a purge cannot make the record available again.
 * - With `downloadsLeft = k`, at most k claims ever succeed, whatever the concurrency.
 * - A blob is never purged while a claimed stream holds a fresh lease.
 * - A used-up file is not purged while one of its resume sessions is open (an expired one is).
 */
export interface FileRepository {
  /** Creates tables or indexes; safe to call on every start. */
  init(): Promise<void>;
  /** Writes the record in state `uploading`, before any blob exists. */
  createUpload(upload: NewUpload): Promise<void>;
  /** Adds a part (and so its blob name) to an upload still in progress; false if the upload is gone. */
  addPart(id: string, part: FilePart): Promise<boolean>;
  /** `uploading` → `ready`; false if the upload was swept meanwhile. */
  markReady(id: string, file: ReadyFile): Promise<boolean>;
  /** Removes an upload that failed; only while it is still `uploading`. */
  deleteUpload(id: string): Promise<void>;
  findById(id: string): Promise<FileRecord | null>;
  /**
   * Takes one download: only from a `ready`, unexpired record with downloads left. The stream it opens holds
   * a lease until `leaseUntil`, which `renewLease` extends. Null when nothing can be taken.
   */
  claim(id: string, now: Date, leaseUntil: Date): Promise<Claim | null>;
  /**
   * Opens a resume session on a claimed download, open until `until` (the caller keeps it within the file's
   * expiry). `sessionId` is a one-way hash of the session's secret; the secret itself never reaches the store.
   */
  openSession(claim: Claim, sessionId: string, until: Date): Promise<Claim>;
  /**
   * A new stream for an open session: one more stream in flight (with a lease until `leaseUntil`), no
   * download taken. Null when the session is unknown, closed or over, or the file is expired, revoked or gone.
   */
  resume(id: string, sessionId: string, now: Date, leaseUntil: Date): Promise<Claim | null>;
  /** The session delivered the whole file: it closes, and no stream can resume it any more. */
  closeSession(claim: Claim): Promise<void>;
  /** Gives back a claimed download that never sent a byte (storage failed before the first one). */
  releaseClaim(claim: Claim): Promise<void>;
  renewLease(claim: Claim, leaseUntil: Date): Promise<void>;
  /**
   * Closes a claimed stream (finished or cut off). True when the file is now due for a purge: no other stream
   * in flight, and expired, or used up with no resume session open.
   */
  endStream(claim: Claim, now: Date): Promise<boolean>;
  /** Makes a `ready` file unavailable at once (expiry set to now); false if it was not `ready`. */
  expireNow(id: string, now: Date): Promise<boolean>;
  /**
   * `→ purging` when the file is due (expired, used up, or an upload past its deadline) and no stream with a
   * fresh lease holds it; a record already `purging` is returned again (a purge cut short is resumed).
   * Returns the record to purge, or null when it is not due, busy or gone.
   */
  beginPurge(id: string, now: Date): Promise<FileRecord | null>;
  /** Deletes a record that `beginPurge` returned, and everything kept beside it (sessions too): the last step of a purge. */
  deletePurged(id: string): Promise<void>;
  /**
   * Ids of records that are due for a purge (expired; used up with no session open; a purge cut short), oldest
   * expiry first; index range scans, never a full scan.
   */
  findDue(now: Date, limit: number): Promise<string[]>;
  /**
   * Ids of records whose expiry falls in (`after`, `until`], oldest expiry first: the files of one expiry slot,
   * whatever their state. One index range scan over that window alone, however many records are stored or due.
   */
  findExpiring(after: Date, until: Date, limit: number): Promise<string[]>;
  /** Which of these ids have a record. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  /** One cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  /** Releases connections or file handles; the repository is unusable afterwards. */
  close(): Promise<void>;
}
