import type { Readable } from 'node:stream';

export interface StoredBlob {
  readonly name: string;
  readonly size: number;
  readonly createdOn: Date;
}

export interface BlobRead {
  readonly stream: Readable;
  readonly size: number;
  /**
   * The whole blob, when the adapter read it whole before answering (small blobs): the same bytes the stream
   * gives. A caller may take these instead of reading the stream, and then never touches `stream`.
   */
  readonly bytes?: Buffer;
}

/**
 * Where file bytes live: the blob port. Blob names are `<file id>/<part>` (URL-safe base64 and digits); an
 * adapter refuses any other shape rather than let a name reach outside its own space. Implementations stream
 * (memory stays flat in the blob size) and every method is safe to repeat. The contract every adapter passes
 * lives in `testing/blob-store-contract.ts`.
 */
export interface BlobStore {
  /** Prepares the store (creates what it needs); safe to call on every start. */
  init(): Promise<void>;
  /**
   * Streams `source` into a new blob, which becomes visible under `name` only once complete. On any failure
   * (source error, abort, storage error) the promise rejects and nothing of the blob remains under `name`;
   * whatever a crash leaves behind is listed by `list` so reconciliation can remove it.
   */
  write(name: string, source: Readable, options?: { signal?: AbortSignal }): Promise<{ size: number }>;
  /**
   * Opens a blob for reading; resolves once the store has answered, so a failure comes before any byte.
   * A blob that does not exist rejects with `AppError('NOT_FOUND')`; a store that does not answer, with
   * `AppError('STORAGE_UNAVAILABLE')`.
   */
  read(name: string): Promise<BlobRead>;
  /** Deletes a blob and anything a cut-off write left under its name. Deleting what is not there is not an error. */
  delete(name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
  /** Every blob, complete or left by a cut-off write, with the time it was created. */
  list(prefix?: string): AsyncIterable<StoredBlob>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
}
