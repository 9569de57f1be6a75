import { Worker, type Job } from 'bullmq';
import { type Config, createLogger } from '@one-time/core';
import { PURGE_QUEUE, createRedis, isJobName, parseJob } from '@one-time/queue';
import { PurgeService, Sweeper, connectInfrastructure, type Infrastructure, type Log } from '@one-time/service';

export interface RunningWorker {
  readonly infra: Infrastructure;
  readonly sweeper: Sweeper;
  readonly worker: Worker;
  close(): Promise<void>;
}

/** Runs purge jobs and the schedulers for the sweeper and the reconciliation pass. */
export async function startWorker(config: Config): Promise<RunningWorker> {
  const log = createLogger('worker', config.logLevel);
  const infra = await connectInfrastructure(config);
  const purger = new PurgeService({ files: infra.files, blobs: infra.blobs });
  const sweeper = new Sweeper({
    files: infra.files,
    blobs: infra.blobs,
    purger,
    log,
    orphanGraceMs: config.timing.orphanGraceMs,
  });

  const connection = createRedis(config.redis.url, 'worker');
  const worker = new Worker(PURGE_QUEUE, (job) => runJob(job, purger, sweeper, log), {
    connection,
    prefix: config.redis.queuePrefix,
    concurrency: 4,
  });
  worker.on('error', (error) => log.warn({ err: error }, 'worker connection problem'));

  const ensureSchedulers = () => infra.purges.ensureSchedulers(config.timing.sweepIntervalMs, config.timing.reconcileIntervalMs);
  await ensureSchedulers();
  // Redis keeps nothing on disk: if it restarts, the schedulers are gone too. Re-assert them (idempotent).
  const watchdog = setInterval(() => {
    ensureSchedulers().catch((error: unknown) => log.warn({ err: error }, 'schedulers not refreshed'));
  }, config.timing.sweepIntervalMs);
  watchdog.unref();

  return {
    infra,
    sweeper,
    worker,
    async close() {
      clearInterval(watchdog);
      await worker.close();
      connection.disconnect();
      await infra.close();
    },
  };
}

async function runJob(job: Job, purger: PurgeService, sweeper: Sweeper, log: Log): Promise<unknown> {
  if (!isJobName(job.name)) throw new Error(`unknown job name ${job.name}`);
  switch (job.name) {
    case 'purge-file': {
      const { fileId, reason } = parseJob('purge-file', job.data);
      const outcome = await purger.purge(fileId);
      log.info({ fileId, reason, outcome }, 'purge');
      return outcome;
    }
    case 'sweep': {
      parseJob('sweep', job.data);
      const report = await sweeper.sweep();
      if (report.due > 0) log.info(report, 'sweep');
      return report;
    }
    case 'reconcile': {
      parseJob('reconcile', job.data);
      const report = await sweeper.reconcile();
      log.info(report, 'reconcile');
      return report;
    }
  }
}
