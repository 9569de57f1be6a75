import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  JOB_SCHEMAS,
  PURGE_QUEUE,
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

/** The producer side, used by the API and by the worker's schedulers. */
export class PurgeQueue {
  readonly queue: Queue;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(PURGE_QUEUE, { connection, prefix, defaultJobOptions: PURGE_JOB_OPTIONS });
  }

  async enqueuePurge(fileId: string, reason: PurgeReason, delayMs = 0): Promise<void> {
    await this.#add('purge-file', { fileId, reason }, { jobId: purgeJobId(fileId, reason), delay: Math.max(0, delayMs) });
  }

  async forgetFile(fileId: string): Promise<void> {
    // A job that is running right now is locked and stays; it removes itself when it completes.
    await Promise.all(PURGE_REASONS.map((reason) => this.queue.remove(purgeJobId(fileId, reason))));
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
