import type { FilePart, FileRecord } from '@one-time/core';

export interface NewUpload {
  readonly id: string;
  readonly deleteTokenHash: string;
  readonly createdAt: Date;
  /** The upload deadline: until the upload is finished, `expiresAt` holds it, so the sweeper finds stalls. */
  readonly deadline: Date;
}

export interface ReadyFile {
  readonly size: number;
  readonly parts: readonly FilePart[];
  readonly expiresAt: Date;
  readonly downloadsLeft: number;
}

/**
 * The records behind uploads. Every state change is one conditional write, so two processes can never both
 * win the same transition (claim, purge).
 */
export interface FileRepository {
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
   * Takes one download: only a `ready`, unexpired record with downloads left, in one conditional update that
   * also opens a stream lease. Returns the record after the update, or null.
   */
  claim(id: string, now: Date, leaseUntil: Date): Promise<FileRecord | null>;
  /** Gives back a claimed download that never sent a byte; `claimed` is what `claim` returned. */
  releaseClaim(claimed: FileRecord): Promise<void>;
  renewLease(id: string, leaseUntil: Date): Promise<void>;
  /** Closes a download stream; returns the record after the update. */
  endStream(id: string): Promise<FileRecord | null>;
  /** Makes a file unavailable at once (expiry set to now). */
  expireNow(id: string, now: Date): Promise<boolean>;
  /**
   * `→ purging` when the file is due (expired, used up, or an upload past its deadline) and no live stream
   * holds it. Returns the record to purge, or null when it is not due, busy or gone.
   */
  beginPurge(id: string, now: Date): Promise<FileRecord | null>;
  /** Deletes a record in state `purging` and everything kept beside it: the last step of a purge. */
  deletePurged(id: string): Promise<void>;
  /** Ids of records that are due for a purge, oldest expiry first; served by indexes. */
  findDue(now: Date, limit: number): Promise<string[]>;
  /** Which of these ids have a record. */
  existingIds(ids: readonly string[]): Promise<Set<string>>;
  ping(): Promise<void>;
}
