import type { FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';
import type { FileRecord } from '@one-time/core';
import { systemClock, type Clock, type Log, type PurgeCause, type PurgeMetrics, type PurgeScheduler } from './ports.ts';

export type PurgeOutcome = 'purged' | 'not-due';

/**
 * Removes one file: claim the purge (a conditional write that also refuses files with live streams or
 * downloads left), delete the blobs, then the record. Blobs go first, so a purge cut short leaves a record in
 * state `purging` that the sweeper finds, never a blob nobody knows about. Every step can be repeated.
 */
export class PurgeService {
  readonly #files: FileRepository;
  readonly #blobs: BlobStore;
  readonly #clock: Clock;
  readonly #metrics: PurgeMetrics | undefined;
  readonly #jobs: Pick<PurgeScheduler, 'forgetFile'> | undefined;
  readonly #log: Log | undefined;

  constructor(deps: {
    files: FileRepository;
    blobs: BlobStore;
    clock?: Clock;
    metrics?: PurgeMetrics;
    /** Jobs still queued for a purged file are dropped, so the queue keeps no trace of it either. */
    jobs?: Pick<PurgeScheduler, 'forgetFile'>;
    log?: Log;
  }) {
    this.#files = deps.files;
    this.#blobs = deps.blobs;
    this.#jobs = deps.jobs;
    this.#log = deps.log;
    this.#clock = deps.clock ?? systemClock;
    this.#metrics = deps.metrics;
  }

  async purge(fileId: string): Promise<PurgeOutcome> {
    const record = await this.#files.beginPurge(fileId, this.#clock());
    if (!record) return 'not-due';
    for (const part of record.parts) await this.#blobs.delete(part.blob);
    await this.#files.deletePurged(fileId);
    this.#metrics?.purged(causeOf(record));
    await this.#jobs?.forgetFile(fileId).catch((error: unknown) => {
      // Harmless: a left-over job finds nothing to purge and is removed when it runs.
      this.#log?.warn({ fileId, err: error }, 'queued jobs of a purged file not dropped');
    });
    return 'purged';
  }
}

/**
 * Read from the record as `beginPurge` left it: an upload that never finished has parts without a size (or
 * none: sizes are written when it completes); a revoked file looks expired (revokes are counted where they
 * happen).
 */
export function causeOf(record: FileRecord): PurgeCause {
  if (record.parts.length === 0 || record.parts.some((part) => part.size === undefined)) return 'abandoned';
  return record.downloadsLeft <= 0 ? 'downloaded' : 'expired';
}
