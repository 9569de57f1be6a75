import { Counter, type Registry } from 'prom-client';

/** Why a purged file was due (no label carries a file id, let alone a code). */
export type PurgeCause = 'downloaded' | 'expired' | 'abandoned';

/**
 * Purges, counted where they happen: by the API right after a last download, by the worker's jobs and sweeper
 * otherwise. Both processes export the same series; sum them across processes.
 */
export class PurgeCounter {
  readonly #purges: Counter<'cause'>;
  readonly #expiries: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#purges = new Counter({
      name: 'one_time_purges_total',
      help: 'Files purged (blobs and record deleted), by why they were due: downloaded, expired (or revoked), abandoned upload.',
      labelNames: ['cause'] as const,
      registers,
    });
    this.#expiries = new Counter({
      name: 'one_time_expiries_total',
      help: 'Files purged because their time ran out.',
      registers,
    });
  }

  purged(cause: PurgeCause): void {
    this.#purges.inc({ cause });
    if (cause === 'expired') this.#expiries.inc();
  }
}
