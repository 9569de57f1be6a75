import type { FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';
import { systemClock, type Clock, type Log } from './ports.ts';
import type { PurgeService } from './purge-service.ts';

export interface SweepReport {
  readonly due: number;
  readonly purged: number;
  /** Due but held by a live download stream, or purged by someone else meanwhile. */
  readonly skipped: number;
  readonly failed: number;
}

export interface ReconcileReport {
  readonly blobsSeen: number;
  readonly orphansRemoved: number;
}

const SWEEP_BATCH = 500;
const RECONCILE_BATCH = 500;

/**
 * The safety net behind the purge jobs, which Redis may lose. `sweep` asks MongoDB (through indexes) for what
 * is due; `reconcile`, run rarely, lists blobs to remove any that no record knows about.
 */
export class Sweeper {
  readonly #files: FileRepository;
  readonly #blobs: BlobStore;
  readonly #purger: PurgeService;
  readonly #log: Log;
  readonly #clock: Clock;
  readonly #orphanGraceMs: number;

  constructor(deps: {
    files: FileRepository;
    blobs: BlobStore;
    purger: PurgeService;
    log: Log;
    orphanGraceMs: number;
    clock?: Clock;
  }) {
    this.#files = deps.files;
    this.#blobs = deps.blobs;
    this.#purger = deps.purger;
    this.#log = deps.log;
    this.#clock = deps.clock ?? systemClock;
    this.#orphanGraceMs = deps.orphanGraceMs;
  }

  async sweep(): Promise<SweepReport> {
    return this.#purgeAll(() => this.#files.findDue(this.#clock(), SWEEP_BATCH));
  }

  /**
   * Purges the files whose expiry falls in (`after`, `until`]: one expiry slot. It reads only that window (an
   * index range), so its cost follows the files of the slot, not the records stored nor those due for other
   * reasons; files it cannot purge now (a download still streaming, storage down) are left to the stream's end
   * and to `sweep`.
   */
  async expire(after: Date, until: Date): Promise<SweepReport> {
    return this.#purgeAll(() => this.#files.findExpiring(after, until, SWEEP_BATCH));
  }

  /** Purges what `find` lists, batch after batch, until it lists nothing new. */
  async #purgeAll(find: () => Promise<string[]>): Promise<SweepReport> {
    const totals = { due: 0, purged: 0, skipped: 0, failed: 0 };
    const seen = new Set<string>();
    for (;;) {
      const ids = (await find()).filter((id) => !seen.has(id));
      if (ids.length === 0) break;
      for (const id of ids) {
        seen.add(id);
        totals.due += 1;
        try {
          const outcome = await this.#purger.purge(id);
          if (outcome === 'purged') totals.purged += 1;
          else totals.skipped += 1;
        } catch (error) {
          totals.failed += 1;
          this.#log.warn({ fileId: id, err: error }, 'sweep could not purge a file; next sweep retries');
        }
      }
    }
    return totals;
  }

  async reconcile(): Promise<ReconcileReport> {
    const cutoff = this.#clock().getTime() - this.#orphanGraceMs;
    let blobsSeen = 0;
    let orphansRemoved = 0;
    let batch: Array<{ name: string; createdOn: Date }> = [];
    const flush = async () => {
      orphansRemoved += await this.#removeOrphans(batch, cutoff);
      batch = [];
    };
    for await (const blob of this.#blobs.list()) {
      blobsSeen += 1;
      batch.push(blob);
      if (batch.length >= RECONCILE_BATCH) await flush();
    }
    await flush();
    return { blobsSeen, orphansRemoved };
  }

  async #removeOrphans(blobs: ReadonlyArray<{ name: string; createdOn: Date }>, cutoff: number): Promise<number> {
    const old = blobs.filter((blob) => blob.createdOn.getTime() < cutoff);
    const known = await this.#files.existingIds(old.map((blob) => fileIdOfBlob(blob.name)));
    let removed = 0;
    for (const blob of old) {
      if (known.has(fileIdOfBlob(blob.name))) continue;
      await this.#blobs.delete(blob.name);
      removed += 1;
      this.#log.info({ blob: blob.name }, 'removed orphan blob');
    }
    return removed;
  }
}

/** Blobs are named `<fileId>/<part>`; anything else is foreign and counts as an orphan of id `name`. */
function fileIdOfBlob(name: string): string {
  return name.split('/')[0] ?? name;
}
