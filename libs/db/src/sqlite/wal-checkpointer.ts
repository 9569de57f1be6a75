import type { DatabaseSync } from 'node:sqlite';
import { SQL } from './queries.ts';

/** Waits at most this long for other connections during a background checkpoint; a busy one is retried. */
const BACKGROUND_WAIT_MS = 20;

export interface CheckpointerOptions {
  /** The delay between a purge and the checkpoint that wipes it from the WAL (the repository uses 1 s). */
  readonly delayMs: number;
  /** How long `close()` waits for other connections in its final checkpoint. */
  readonly busyTimeoutMs: number;
}

/**
 * Why: with secure_delete the pages of the database are zeroed when a row is deleted, but the WAL keeps the
 * older page images (with the record in them) until a checkpoint copies the WAL back and truncates it. So
 * after a purge `schedule()` arms ONE timer (at most one checkpoint per `delayMs`, however many purges come
 * in between; unref'd, so it never keeps the process alive) that runs `PRAGMA wal_checkpoint(TRUNCATE)`.
 * A checkpoint on every purge would take the write lock on every purge; this batches them.
 *
 * The background run waits at most BACKGROUND_WAIT_MS for other connections (it runs on the event loop);
 * if a reader or writer elsewhere kept it from truncating the WAL, it tries again after `delayMs`.
 */
export class WalCheckpointer {
  readonly #db: DatabaseSync;
  readonly #options: CheckpointerOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: DatabaseSync, options: CheckpointerOptions) {
    this.#db = db;
    this.#options = options;
  }

  /** Arms the timer unless one is already armed: the checkpoint it runs covers every purge before it. */
  schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.#runScheduled(), this.#options.delayMs);
    this.#timer.unref();
  }

  /** Checkpoints now, waiting up to `waitMs` for others; true when the WAL was copied back and truncated. */
  checkpointNow(waitMs: number = this.#options.busyTimeoutMs): boolean {
    this.#db.exec(`PRAGMA busy_timeout = ${waitMs}`);
    try {
      const result = this.#db.prepare(SQL.checkpoint).get();
      return result?.busy === 0;
    } finally {
      this.#db.exec(`PRAGMA busy_timeout = ${this.#options.busyTimeoutMs}`);
    }
  }

  /** Cancels a pending run (before close; the caller does the final checkpoint itself). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  #runScheduled(): void {
    this.#timer = undefined;
    let done = false;
    try {
      done = this.checkpointNow(BACKGROUND_WAIT_MS);
    } catch {
      // An I/O error or a closed handle: retried below; the next request surfaces a lasting fault.
    }
    if (!done && this.#db.isOpen) this.schedule();
  }
}
