import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { TurnBatch } from '@one-time/core';
import {
  JOB_SCHEMAS,
  PURGE_QUEUE,
  expiryJobId,
  expirySlotEnd,
  PURGE_REASONS,
  SCHEDULER_IDS,
  purgeJobId,
  type JobName,
  type JobPayload,
  type PurgeReason,
} from './jobs.ts';

const PURGE_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  // Completed ids must not linger, or a later purge with the same deterministic id would be ignored.
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
};

/** Slots this process has already added a job for; a few thousand cover any steady stream of uploads. */
const REMEMBERED_SLOTS = 4_096;

/** The producer side, used by the API and by the worker's schedulers. */
export class PurgeQueue {
  readonly queue: Queue;
  readonly #connection: Redis;
  /** Slot ends whose job this process added, oldest first (a Set keeps insertion order). */
  readonly #slotsAdded = new Set<number>();
  /** The files purged in one turn, whose jobs are looked up together (see `forgetFile`). */
  readonly #forgetting = new TurnBatch<string, void>(async (fileIds) => {
    if ((await this.#connection.exists(...fileIds.flatMap((fileId) => this.#jobKeys(fileId)))) === 0) {
      return fileIds.map(() => ({ status: 'fulfilled', value: undefined }));
    }
    return Promise.allSettled(fileIds.map((fileId) => this.#forgetOne(fileId)));
  });

  constructor(connection: Redis, prefix: string) {
    this.#connection = connection;
    this.queue = new Queue(PURGE_QUEUE, { connection, prefix, defaultJobOptions: PURGE_JOB_OPTIONS });
  }

  async enqueuePurge(fileId: string, reason: PurgeReason, delayMs = 0): Promise<void> {
    await this.#add('purge-file', { fileId, reason }, { jobId: purgeJobId(fileId, reason), delay: Math.max(0, delayMs) });
  }

  /**
   * Makes sure the job of the slot holding `expiresAt` exists. Uploads share slots, so most calls find the slot
   * already added by this process and cost nothing; the first adds it (one script in Redis; a slot another
   * replica added is found there and kept). Should Redis lose the job, the sweeper purges the file instead.
   */
  async scheduleExpiry(expiresAt: Date): Promise<void> {
    const until = expirySlotEnd(expiresAt);
    if (this.#slotsAdded.has(until)) return;
    this.#remember(until);
    try {
      await this.#add('expire-due', { until }, { jobId: expiryJobId(until), delay: Math.max(0, until - Date.now()) });
    } catch (error) {
      this.#slotsAdded.delete(until);
      throw error;
    }
  }

  /**
   * Drops every job still waiting for a purged file, so the queue keeps no trace of it. Most files have none
   * (expiry goes by slot): the files purged in one turn of the event loop are looked up together, with one
   * EXISTS over all their possible job keys, and only when that finds one is each file looked at on its own.
   * A job added between the steps finds nothing to purge when it runs and removes itself on completion; a job
   * that is running right now is locked and stays until it completes.
   */
  forgetFile(fileId: string): Promise<void> {
    return this.#forgetting.add(fileId);
  }

  async #forgetOne(fileId: string): Promise<void> {
    if ((await this.#connection.exists(...this.#jobKeys(fileId))) === 0) return;
    await Promise.all(PURGE_REASONS.map((reason) => this.queue.remove(purgeJobId(fileId, reason))));
  }

  #jobKeys(fileId: string): string[] {
    return PURGE_REASONS.map((reason) => this.queue.toKey(purgeJobId(fileId, reason)));
  }

  #remember(until: number): void {
    this.#slotsAdded.add(until);
    if (this.#slotsAdded.size <= REMEMBERED_SLOTS) return;
    const [oldest] = this.#slotsAdded;
    if (oldest !== undefined) this.#slotsAdded.delete(oldest);
  }

  /** Idempotent: called at worker start and again periodically, since Redis may lose its schedulers. */
  async ensureSchedulers(sweepEveryMs: number, reconcileEveryMs: number): Promise<void> {
    // The last runs (and their reports: due, purged, orphans removed) stay visible in the worker's dashboard.
    const opts = { removeOnComplete: { count: 50 }, removeOnFail: { count: 100 } };
    await this.queue.upsertJobScheduler(SCHEDULER_IDS.sweep, { every: sweepEveryMs }, { name: 'sweep', data: {}, opts });
    await this.queue.upsertJobScheduler(
      SCHEDULER_IDS.reconcile,
      { every: reconcileEveryMs },
      { name: 'reconcile', data: {}, opts },
    );
  }

  async #add<N extends JobName>(name: N, payload: JobPayload<N>, options: JobsOptions): Promise<void> {
    await this.queue.add(name, JOB_SCHEMAS[name].parse(payload), options);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
