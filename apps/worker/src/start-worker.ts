import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, type Job } from 'bullmq';
import { type Config, type DestinationStream, type Logger, createLogger } from '@one-time/core';
import { WorkerMetrics, drainServer } from '@one-time/ops';
import { EXPIRY_SLOT_MS, PURGE_QUEUE, createRedis, isJobName, parseJob } from '@one-time/queue';
import { connectInfrastructure, type Infrastructure } from '@one-time/infra';
import { PurgeService, Sweeper } from '@one-time/service';
import { startOpsServer, type OpsServer } from './ops-server.ts';

export interface RunningWorker {
  readonly infra: Infrastructure;
  readonly sweeper: Sweeper;
  readonly worker: Worker;
  readonly metrics: WorkerMetrics;
  /** The ops port: /healthz, /readyz, /metrics, /dashboard. */
  readonly opsUrl: string;
  /** Graceful stop: takes no new job, lets the current ones finish (within SHUTDOWN_TIMEOUT), then closes. */
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  /** Where log lines go (default stdout); tests capture them here. */
  readonly logDestination?: DestinationStream;
}

/** The ops port's own connections are short; they get this long to finish once the jobs are done. */
const OPS_DRAIN_MS = 2_000;

/** Runs purge jobs and the schedulers for the sweeper and the reconciliation pass, and serves the ops port. */
export async function startWorker(config: Config, options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const log = createLogger('worker', config.logLevel, options.logDestination);
  const infra = await connectInfrastructure(config);
  const metrics = new WorkerMetrics(() => infra.purges.queue.getJobCounts());
  const purger = new PurgeService({ files: infra.files, blobs: infra.blobs, metrics, jobs: infra.purges, log });
  const sweeper = new Sweeper({
    files: infra.files,
    blobs: infra.blobs,
    purger,
    log,
    orphanGraceMs: config.timing.orphanGraceMs,
  });

  let stopping = false;
  let ops: OpsServer;
  try {
    ops = await startOpsServer(config, {
      log,
      registry: metrics.registry,
      checks: infra.checks,
      queue: infra.purges.queue,
      stopping: () => stopping,
    });
  } catch (error) {
    await infra.close();
    throw error;
  }

  const connection = createRedis(config.redis.url, 'worker');
  const worker = new Worker(PURGE_QUEUE, (job) => runJob(job, { purger, sweeper, log, metrics }), {
    connection,
    prefix: config.redis.queuePrefix,
    concurrency: 4,
  });
  worker.on('error', (error) => log.warn({ err: error }, 'worker connection problem'));
  worker.on('failed', (job, error) =>
    log.warn({ job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: error }, 'job failed'),
  );

  const ensureSchedulers = () => infra.purges.ensureSchedulers(config.timing.sweepIntervalMs, config.timing.reconcileIntervalMs);
  await ensureSchedulers();
  // Redis keeps nothing on disk: if it restarts, the schedulers are gone too. Re-assert them (idempotent).
  const watchdog = setInterval(() => {
    ensureSchedulers().catch((error: unknown) => log.warn({ err: error }, 'schedulers not refreshed'));
  }, config.timing.sweepIntervalMs);
  watchdog.unref();
  log.info({ opsUrl: ops.url, dashboard: config.ops.dashboard.enabled }, 'worker running');

  let closing: Promise<void> | undefined;
  return {
    infra,
    sweeper,
    worker,
    metrics,
    opsUrl: ops.url,
    close() {
      closing ??= (async () => {
        stopping = true;
        clearInterval(watchdog);
        log.info({ timeoutMs: config.ops.shutdownTimeoutMs }, 'shutting down: no new jobs, finishing the current ones');
        if (!(await finishesWithin(worker.close(), config.ops.shutdownTimeoutMs))) {
          // A job that overruns is abandoned: its lock expires and another worker retries it (every step repeats safely).
          log.warn('shutdown timeout reached: jobs still running are abandoned to be retried');
          await worker.close(true);
        }
        connection.disconnect();
        await drainServer(ops.server, OPS_DRAIN_MS);
        await infra.close();
        log.info('worker stopped');
      })();
      return closing;
    },
  };
}

async function finishesWithin(work: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface JobDeps {
  readonly purger: PurgeService;
  readonly sweeper: Sweeper;
  readonly log: Logger;
  readonly metrics: WorkerMetrics;
}

async function runJob(job: Job, deps: JobDeps): Promise<unknown> {
  // Job names label a metric: only the known ones, so the label's values stay few.
  const finished = deps.metrics.jobStarted(isJobName(job.name) ? job.name : 'unknown');
  try {
    const result = await runKnownJob(job, deps);
    finished('completed');
    return result;
  } catch (error) {
    finished('failed');
    throw error;
  }
}

/** A slot's job that this worker's clock sees early (clocks of replicas differ a little) waits this long at most. */
const MAX_CLOCK_WAIT_MS = 5_000;

async function runKnownJob(job: Job, { purger, sweeper, log, metrics }: JobDeps): Promise<unknown> {
  if (!isJobName(job.name)) throw new Error(`unknown job name ${job.name}`);
  switch (job.name) {
    case 'purge-file': {
      const { fileId, reason } = parseJob('purge-file', job.data);
      const outcome = await purger.purge(fileId);
      log.info({ fileId, reason, outcome }, 'purge');
      return outcome;
    }
    case 'expire-due': {
      const { until } = parseJob('expire-due', job.data);
      const early = until - Date.now();
      if (early > 0) await sleep(Math.min(early, MAX_CLOCK_WAIT_MS));
      // Only the slot's own files: not a sweep (whose report is the metric that says purges go missing).
      const report = await sweeper.expire(new Date(until - EXPIRY_SLOT_MS), new Date(until));
      if (report.failed > 0) log.warn(report, 'expiry slot: some files not purged; the sweep retries them');
      return report;
    }
    case 'sweep': {
      parseJob('sweep', job.data);
      const report = await sweeper.sweep();
      metrics.swept(report);
      if (report.due > 0) log.info(report, 'sweep');
      return report;
    }
    case 'reconcile': {
      parseJob('reconcile', job.data);
      const report = await sweeper.reconcile();
      metrics.reconciled(report);
      log.info(report, 'reconcile');
      return report;
    }
  }
}
