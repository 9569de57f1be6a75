import type { FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';
import { systemClock, type Clock } from './ports.ts';

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

  constructor(deps: { files: FileRepository; blobs: BlobStore; clock?: Clock }) {
    this.#files = deps.files;
    this.#blobs = deps.blobs;
    this.#clock = deps.clock ?? systemClock;
  }

  async purge(fileId: string): Promise<PurgeOutcome> {
    const record = await this.#files.beginPurge(fileId, this.#clock());
    if (!record) return 'not-due';
    for (const part of record.parts) await this.#blobs.delete(part.blob);
    await this.#files.deletePurged(fileId);
    return 'purged';
  }
}
