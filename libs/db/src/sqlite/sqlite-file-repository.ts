import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import type { FilePart, FileRecord } from '@one-time/core';
import type { Claim, FileRepository, NewUpload, ReadyFile } from '../file-repository.ts';
import { GroupCommit } from './group-commit.ts';
import { DEFAULT_BUSY_TIMEOUT_MS, openDatabase } from './open-database.ts';
import { SQL, type QueryName } from './queries.ts';
import { partJson, partsJson, text, toFileRecord } from './rows.ts';
import { SCHEMA_SQL } from './schema.ts';
import { toAppError } from './sqlite-errors.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

export interface SqliteFileRepositoryOptions {
  /** The database file, in the caller's data folder; created if missing (the folder must exist). */
  readonly path: string;
  /** How long a call waits for another connection's lock before failing with DATABASE_UNAVAILABLE. */
  readonly busyTimeoutMs?: number;
  /** Delay between a purge and the WAL checkpoint that wipes it from disk (default 1 s). */
  readonly checkpointDelayMs?: number;
}

type Params = Record<string, SQLInputValue>;
type Row = Record<string, SQLOutputValue>;

/**
 * A checkpoint copies the WAL back and syncs the database file on the event loop. One per second rather than one
 * per 250 ms: 1 KiB round trips +12–18 % in three alternating runs (each checkpoint stalls every request for a few
 * ms), while a purged record still leaves the WAL within about a second.
 */
const DEFAULT_CHECKPOINT_DELAY_MS = 1_000;

/**
 * The SQLite implementation, on `node:sqlite` (no native addon). Several processes may open the same file:
 * every state change is one conditional statement, which SQLite's write lock makes atomic across them.
 *
 * Calls are synchronous underneath (microseconds each, on prepared statements cached per connection). Reads
 * run at once; writes asked for in the same turn of the event loop commit together (GroupCommit), and each
 * settles once its batch has committed. Purged records are wiped from the WAL by a debounced
 * checkpoint (see WalCheckpointer); `checkpoint()` runs one on demand, and `close()` runs a last one.
 */
export class SqliteFileRepository implements FileRepository {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<QueryName, StatementSync>();
  readonly #checkpointer: WalCheckpointer;
  readonly #commits: GroupCommit;

  /** Opens the file at once: throws `AppError('DATABASE_UNAVAILABLE')` naming the file and the reason. */
  constructor(options: SqliteFileRepositoryOptions) {
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.#db = openDatabase(options.path, busyTimeoutMs);
    this.#checkpointer = new WalCheckpointer(this.#db, {
      delayMs: options.checkpointDelayMs ?? DEFAULT_CHECKPOINT_DELAY_MS,
      busyTimeoutMs,
    });
    this.#commits = new GroupCommit(this.#db, toAppError);
  }

  init(): Promise<void> {
    this.#commits.flush();
    // One write transaction: processes starting together see either no schema or all of it.
    return this.#call(() => inTransaction(this.#db, () => this.#db.exec(SCHEMA_SQL)));
  }

  createUpload(upload: NewUpload): Promise<void> {
    return this.#write(() => {
      this.#run('createUpload', {
        id: upload.id,
        createdAt: upload.createdAt.getTime(),
        deadline: upload.deadline.getTime(),
        deleteTokenHash: upload.deleteTokenHash,
        parts: partsJson(upload.parts ?? []),
      });
    });
  }

  addPart(id: string, part: FilePart): Promise<boolean> {
    return this.#write(() => this.#run('addPart', { id, part: JSON.stringify(partJson(part)) }) === 1);
  }

  markReady(id: string, file: ReadyFile): Promise<boolean> {
    return this.#write(() => {
      const changes = this.#run('markReady', {
        id,
        size: file.size,
        parts: partsJson(file.parts),
        expiresAt: file.expiresAt.getTime(),
        downloadsLeft: file.downloadsLeft,
      });
      return changes === 1;
    });
  }

  deleteUpload(id: string): Promise<void> {
    return this.#write(() => {
      if (this.#run('deleteUpload', { id }) === 1) this.#checkpointer.schedule();
    });
  }

  findById(id: string): Promise<FileRecord | null> {
    return this.#call(() => recordOrNull(this.#get('findById', { id })));
  }

  claim(id: string, now: Date, leaseUntil: Date): Promise<Claim | null> {
    return this.#write(() => {
      const row = this.#get('claim', { id, now: now.getTime(), leaseUntil: leaseUntil.getTime() });
      // The handle is the row itself: a claim is counted in the row, there is no ticket to point at.
      return row ? { file: toFileRecord(row), handle: id } : null;
    });
  }

  openSession(claim: Claim, sessionId: string, until: Date): Promise<Claim> {
    return this.#write(() => {
      this.#run('openSession', { session: sessionId, id: claim.file.id, until: until.getTime() });
      return { ...claim, session: sessionId };
    });
  }

  resume(id: string, sessionId: string, now: Date, leaseUntil: Date): Promise<Claim | null> {
    return this.#write(() => {
      const row = this.#get('resume', { id, session: sessionId, now: now.getTime(), leaseUntil: leaseUntil.getTime() });
      return row ? { file: toFileRecord(row), handle: id, session: sessionId } : null;
    });
  }

  closeSession(claim: Claim): Promise<void> {
    return this.#write(() => {
      if (claim.session !== undefined) this.#run('closeSession', { session: claim.session });
    });
  }

  releaseClaim(claim: Claim): Promise<void> {
    return this.#write(() => {
      this.#run('releaseClaim', { id: claim.handle });
    });
  }

  renewLease(claim: Claim, leaseUntil: Date): Promise<void> {
    return this.#write(() => {
      this.#run('renewLease', { id: claim.handle, leaseUntil: leaseUntil.getTime() });
    });
  }

  endStream(claim: Claim, now: Date): Promise<boolean> {
    return this.#write(() => this.#get('endStream', { id: claim.handle, now: now.getTime() })?.due === 1);
  }

  expireNow(id: string, now: Date): Promise<boolean> {
    return this.#write(() => this.#run('expireNow', { id, now: now.getTime() }) === 1);
  }

  beginPurge(id: string, now: Date): Promise<FileRecord | null> {
    return this.#write(() => recordOrNull(this.#get('beginPurge', { id, now: now.getTime() })));
  }

  deletePurged(id: string): Promise<void> {
    return this.#write(() => {
      if (this.#run('deletePurged', { id }) === 1) this.#checkpointer.schedule();
    });
  }

  findDue(now: Date, limit: number): Promise<string[]> {
    return this.#call(() => this.#all('findDue', { now: now.getTime(), limit }).map((row) => text(row, 'id')));
  }

  findExpiring(after: Date, until: Date, limit: number): Promise<string[]> {
    return this.#call(() =>
      this.#all('findExpiring', { after: after.getTime(), until: until.getTime(), limit }).map((row) => text(row, 'id')),
    );
  }

  existingIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#call(() => {
      if (ids.length === 0) return new Set<string>();
      return new Set(this.#all('existingIds', { ids: JSON.stringify(ids) }).map((row) => text(row, 'id')));
    });
  }

  ping(): Promise<void> {
    return this.#call(() => {
      this.#get('ping', {});
    });
  }

  /**
   * Copies the WAL into the database file and truncates it, so no purged record survives in its bytes. Runs
   * by itself after purges; call it to force one (it waits up to the busy timeout for other connections).
   * False when another connection's reader kept the WAL from being truncated; a retry is then scheduled.
   */
  checkpoint(): Promise<boolean> {
    return this.#call(() => {
      this.#commits.flush();
      this.#checkpointer.stop();
      const done = this.#checkpointer.checkpointNow();
      if (!done) this.#checkpointer.schedule();
      return done;
    });
  }

  /** A last checkpoint (purged records leave the WAL), then the handle is closed. A second call does nothing. */
  close(): Promise<void> {
    if (!this.#db.isOpen) return Promise.resolve();
    this.#commits.flush(); // writes already asked for are committed, not dropped
    this.#checkpointer.stop();
    return this.#call(() => {
      try {
        this.#checkpointer.checkpointNow();
      } finally {
        this.#statements.clear();
        this.#db.close();
      }
    });
  }

  /** A state change: runs in the next group commit (see GroupCommit); any failure becomes DATABASE_UNAVAILABLE. */
  #write<T>(work: () => T): Promise<T> {
    return this.#commits.run(work);
  }

  /** A read (or a write of its own transaction): runs now; any failure becomes DATABASE_UNAVAILABLE. */
  #call<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toAppError(error));
    }
  }

  #run(query: QueryName, params: Params): number {
    return Number(this.#statement(query).run(params).changes);
  }

  #get(query: QueryName, params: Params): Row | undefined {
    return this.#statement(query).get(params);
  }

  #all(query: QueryName, params: Params): Row[] {
    return this.#statement(query).all(params);
  }

  /** Prepared once per connection, on first use (the table must exist by then: after `init`). */
  #statement(query: QueryName): StatementSync {
    let statement = this.#statements.get(query);
    if (!statement) {
      statement = this.#db.prepare(SQL[query]);
      this.#statements.set(query, statement);
    }
    return statement;
  }
}

function recordOrNull(row: Row | undefined): FileRecord | null {
  return row ? toFileRecord(row) : null;
}

function inTransaction(db: DatabaseSync, work: () => void): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    work();
    db.exec('COMMIT');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
