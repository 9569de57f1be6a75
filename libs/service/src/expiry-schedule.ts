import type { Log, PurgeScheduler } from './ports.ts';

/**
 * Has a file that just became available purged at its expiry. Not fatal when the queue is away: the sweeper
 * purges expired files whether or not a job exists, so the upload still succeeds, with a warning.
 */
export async function scheduleExpiry(
  deps: { readonly purges: Pick<PurgeScheduler, 'scheduleExpiry'>; readonly log: Log },
  fileId: string,
  expiresAt: Date,
): Promise<void> {
  try {
    await deps.purges.scheduleExpiry(expiresAt);
  } catch (error) {
    deps.log.warn({ fileId, err: error }, 'expiry job not enqueued; the sweeper will purge');
  }
}
