import { randomBytes } from 'node:crypto';
import { MongoServerError, type Collection } from 'mongodb';
import { AppError } from '@one-time/core';

export const WRITE_LOCKS_COLLECTION = 'write_locks';

/** Held for one update (a few milliseconds); one older than this was left by a process that died holding it. */
const STALE_AFTER_MS = 5_000;
/** Longer than a stale lock lives, so a waiter always gets through unless the server itself is stuck. */
const GIVE_UP_AFTER_MS = 15_000;
const DUPLICATE_KEY = 11000;

interface WriteLockDocument {
  _id: string;
  owner: string;
  until: Date;
}

/**
 * One writer at a time per document, for servers whose updates are read-then-write (FerretDB 1.x rewrites the
 * whole document it read, so two concurrent updates — even of different fields — can lose one, and a
 * compare-and-set filter is checked against what it read, not what it writes). A lock is a unique insert,
 * which is atomic there too. Off on MongoDB, where every conditional update is atomic on its own.
 */
export class DocumentWriteLocks {
  readonly #locks: Collection<WriteLockDocument>;
  #enabled = false;

  constructor(locks: Collection<WriteLockDocument>) {
    this.#locks = locks;
  }

  /** Turned on when the server is known to need it (see `MongoFileRepository.init`). */
  enable(): void {
    this.#enabled = true;
  }

  async hold<T>(id: string, write: () => Promise<T>): Promise<T> {
    if (!this.#enabled) return write();
    const owner = await this.#acquire(id);
    try {
      return await write();
    } finally {
      await this.#locks.deleteOne({ _id: id, owner }).catch(() => undefined); // a stale lock is broken later
    }
  }

  /** Removes a lock a dead process left on a document that is now gone, so not even its id stays behind. */
  async forget(id: string): Promise<void> {
    await this.#locks.deleteOne({ _id: id });
  }

  async #acquire(id: string): Promise<string> {
    const owner = randomBytes(8).toString('hex');
    const giveUpAt = Date.now() + GIVE_UP_AFTER_MS;
    for (let attempt = 0; Date.now() < giveUpAt; attempt += 1) {
      if (await this.#tryInsert(id, owner)) return owner;
      await this.#breakIfStale(id);
      await pause(attempt);
    }
    throw new AppError('DATABASE_UNAVAILABLE', 'a document stayed locked for too long');
  }

  async #tryInsert(id: string, owner: string): Promise<boolean> {
    try {
      await this.#locks.insertOne({ _id: id, owner, until: new Date(Date.now() + STALE_AFTER_MS) });
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw new AppError('DATABASE_UNAVAILABLE', undefined, { cause: error });
    }
  }

  async #breakIfStale(id: string): Promise<void> {
    const held = await this.#locks.findOne({ _id: id });
    if (held && held.until.getTime() < Date.now()) await this.#locks.deleteOne({ _id: id, owner: held.owner });
  }
}

/** Short and growing, jittered so the waiters of one document do not retry in lockstep. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 * (attempt + 1), 20)));
}
