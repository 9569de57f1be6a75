import type { Readable } from 'node:stream';

export interface StoredBlob {
  readonly name: string;
  readonly size: number;
  readonly createdOn: Date;
}

export interface BlobRead {
  readonly stream: Readable;
  readonly size: number;
}

/**
 * Where file bytes live. Implementations must stream (never hold a whole blob in memory) and every method
 * must be safe to repeat.
 */
export interface BlobStore {
  /** Creates the container if needed. */
  init(): Promise<void>;
  /**
   * Streams `source` into a new blob. On any failure (source error, abort, storage error) nothing of the blob
   * remains, not even uncommitted blocks, and the returned promise rejects.
   */
  write(name: string, source: Readable, options?: { signal?: AbortSignal }): Promise<{ size: number }>;
  /** Opens a blob for reading; resolves once the store has answered, so a failure comes before any byte. */
  read(name: string): Promise<BlobRead>;
  /** Deletes a blob and any uncommitted blocks under its name. Deleting what is not there is not an error. */
  delete(name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
  list(prefix?: string): AsyncIterable<StoredBlob>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
}
