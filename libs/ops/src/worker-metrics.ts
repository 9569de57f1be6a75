import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PurgeCounter, type PurgeCause } from './purge-counter.ts';
import { newRegistry } from './registry.ts';

/** What the worker counts; no label carries a file id, let alone a code. */
export type JobResult = 'completed' | 'failed';

/** BullMQ's job states, as `Queue.getJobCounts` names them. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'paused'] as const;
export type QueueCounts = Partial<Record<(typeof QUEUE_STATES)[number], number>>;

export interface SweepFindings {
  readonly due: number;
  readonly failed: number;
}

export interface ReconcileFindings {
  readonly blobsSeen: number;
  readonly orphansRemoved: number;
}

export class WorkerMetrics {
  readonly registry: Registry;
  readonly #purges: PurgeCounter;
  readonly #jobs: Counter<'job' | 'result'>;
  readonly #jobSeconds: Histogram<'job'>;
  readonly #sweeps: Counter;
  readonly #sweepDue: Counter;
  readonly #sweepFailed: Counter;
  readonly #lastSweep: Gauge;
  readonly #blobsSeen: Counter;
  readonly #orphans: Counter;

  /** `queueCounts` is asked at each scrape; if Redis does not answer, the depth is left out of that scrape. */
  constructor(queueCounts: () => Promise<QueueCounts>, registry: Registry = newRegistry()) {
    this.registry = registry;
    const registers = [registry];
    this.#purges = new PurgeCounter(registry);
    this.#jobs = new Counter({
      name: 'one_time_jobs_total',
      help: 'Queue jobs run by this worker, by job name (purge-file, expire-due, sweep, reconcile) and result (completed, failed).',
      labelNames: ['job', 'result'] as const,
      registers,
    });
    this.#jobSeconds = new Histogram({
      name: 'one_time_job_duration_seconds',
      help: 'Time to run one job.',
      labelNames: ['job'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    new Gauge({
      name: 'one_time_queue_jobs',
      help: 'Jobs in the purge queue by state (the same for every worker replica: aggregate with max, not sum).',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        this.reset();
        const counts = await queueCounts().catch(() => undefined);
        if (counts === undefined) return;
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    this.#sweeps = new Counter({ name: 'one_time_sweeps_total', help: 'Sweeper runs finished.', registers });
    this.#sweepDue = new Counter({
      name: 'one_time_sweep_due_records_total',
      help: 'Due records the sweeper found (expired, used up or stalled files whose purge job was missing or late).',
      registers,
    });
    this.#sweepFailed = new Counter({
      name: 'one_time_sweep_failures_total',
      help: 'Due records the sweeper could not purge (retried on the next run).',
      registers,
    });
    this.#lastSweep = new Gauge({
      name: 'one_time_sweep_last_run_timestamp_seconds',
      help: 'When the sweeper last finished a run (Unix time).',
      registers,
    });
    this.#blobsSeen = new Counter({
      name: 'one_time_reconcile_blobs_seen_total',
      help: 'Blobs listed by reconciliation passes.',
      registers,
    });
    this.#orphans = new Counter({
      name: 'one_time_orphan_blobs_removed_total',
      help: 'Blobs no record knew about, removed by reconciliation.',
      registers,
    });
  }

  purged(cause: PurgeCause): void {
    this.#purges.purged(cause);
  }

  /** Call when a job starts; the returned function when it ends. */
  jobStarted(job: string): (result: JobResult) => void {
    const end = this.#jobSeconds.startTimer({ job });
    return (result) => {
      end();
      this.#jobs.inc({ job, result });
    };
  }

  swept(findings: SweepFindings): void {
    this.#sweeps.inc();
    this.#sweepDue.inc(findings.due);
    this.#sweepFailed.inc(findings.failed);
    this.#lastSweep.set(Date.now() / 1000);
  }

  reconciled(findings: ReconcileFindings): void {
    this.#blobsSeen.inc(findings.blobsSeen);
    this.#orphans.inc(findings.orphansRemoved);
  }
}
