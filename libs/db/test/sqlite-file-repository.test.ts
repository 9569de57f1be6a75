import { existsSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@one-time/core';
import { SqliteFileRepository } from '@one-time/db/sqlite';
import { describeFileRepositoryContract, givenReady, minutesFromNow, mustClaim, newId, purge } from '@one-time/db/testing';
import { findTraces, needlesFor } from './support/byte-scan.ts';
import { corruptAllPagesButTheFirst } from './support/corrupt-database.ts';
import { expectIndexedPlans, fillWithRows } from './support/query-plans.ts';
import { raceClaimsAcrossProcesses } from './support/claim-race.ts';
import { makeTempFolder } from './support/temp-folder.ts';

const DATABASE_FILE = 'files.db';

describeFileRepositoryContract('SqliteFileRepository', () => {
  const folder = makeTempFolder();
  const repo = new SqliteFileRepository({ path: join(folder.path, DATABASE_FILE) });
  return Promise.resolve({
    repo,
    cleanup: async () => {
      await repo.close();
      folder.remove();
    },
  });
});

describe('SqliteFileRepository (SQLite only)', () => {
  let folder: ReturnType<typeof makeTempFolder>;
  let path: string;
  const opened: SqliteFileRepository[] = [];
  const open = (options: { busyTimeoutMs?: number; checkpointDelayMs?: number } = {}) => {
    const repo = new SqliteFileRepository({ path, ...options });
    opened.push(repo);
    return repo;
  };

  beforeEach(() => {
    folder = makeTempFolder();
    path = join(folder.path, DATABASE_FILE);
  });
  afterEach(async () => {
    for (const repo of opened.splice(0)) await repo.close();
    folder.remove();
  });

  describe('leaves no trace of a purged record', () => {
    it('in the raw bytes of any database file, once the debounced checkpoint ran', async () => {
      const repo = open({ checkpointDelayMs: 50 });
      await repo.init();
      await givenNeighbours(repo, 200);
      const secret = await givenDistinctiveRecord(repo);
      await givenNeighbours(repo, 200);
      const needles = needlesFor(secret.values);

      // Control: the scan does see every value while the record exists.
      expect(await repo.checkpoint()).toBe(true);
      const before = findTraces(folder.path, needles);
      // (All but the delivered download's session: that one was deleted, and wiped, when it closed.)
      for (const name of Object.keys(secret.values).filter((name) => name !== 'closedSession')) {
        expect(before).toContain(`${DATABASE_FILE}: ${name} (text)`);
      }
      expect(before).not.toContain(`${DATABASE_FILE}: closedSession (text)`);

      expect(await purge(repo, secret.id)).toBe(true);
      // The database file still holds the old pages until the WAL is checkpointed back into it...
      expect(findTraces(folder.path, needles)).not.toEqual([]);
      // ...which the repository does by itself shortly after a purge.
      await waitFor(() => statSync(`${path}-wal`).size === 0, 2_000);
      expect(findTraces(folder.path, needles)).toEqual([]);

      await repo.close();
      expect(findTraces(folder.path, needles)).toEqual([]);
      expect(await open().findById(secret.id)).toBeNull();
    });

    it('also when the process closes the repository right after the purge', async () => {
      const repo = open({ checkpointDelayMs: 60_000 });
      await repo.init();
      await givenNeighbours(repo, 50);
      const secret = await givenDistinctiveRecord(repo);
      expect(await purge(repo, secret.id)).toBe(true);
      await repo.close(); // the final checkpoint, long before the timer
      expect(findTraces(folder.path, needlesFor(secret.values))).toEqual([]);
    });

    it('also for an upload deleted after a failure', async () => {
      const repo = open({ checkpointDelayMs: 60_000 });
      await repo.init();
      await givenNeighbours(repo, 50);
      const id = newId();
      const values = { id, deleteTokenHash: randomBytes(32).toString('hex'), blob: `${id}/${newId()}` };
      await repo.createUpload({
        id,
        deleteTokenHash: values.deleteTokenHash,
        createdAt: new Date(),
        deadline: minutesFromNow(5),
      });
      await repo.addPart(id, { blob: values.blob });
      await repo.deleteUpload(id);
      expect(await repo.checkpoint()).toBe(true);
      expect(findTraces(folder.path, needlesFor(values))).toEqual([]);
    });
  });

  describe('query plans', () => {
    it('serves every query from an index, never a full scan of files, also with 1,000,000 rows', async () => {
      const repo = open();
      await repo.init();
      const now = Date.now();
      fillWithRows(path, 1_000_000, now);
      const raw = new DatabaseSync(path);
      try {
        expectIndexedPlans(raw);
        raw.exec('ANALYZE'); // with statistics the planner must still choose the same indexes
        expectIndexedPlans(raw);
      } finally {
        raw.close();
      }
      const due = await repo.findDue(new Date(now), 100);
      expect(due).toHaveLength(100);
      // Oldest expiry first: the rows numbered 0, 1000, 2000, … share the oldest one (now - 500 s).
      expect(due.filter((id) => Number(id.slice('row-'.length)) % 1_000 !== 0)).toEqual([]);
    });
  });

  describe('opening', () => {
    it('names the file and the reason when the file is not a database', () => {
      writeFileSync(path, 'this is a text file, not a database '.repeat(200));
      const error = openError(() => open());
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/not a SQLite database/);
      expect(error.cause).toBeInstanceOf(Error);
    });

    it('names the file and the reason when the folder does not exist', () => {
      const missing = join(folder.path, 'no-such-folder', DATABASE_FILE);
      const error = openError(() => new SqliteFileRepository({ path: missing }));
      expect(error.message).toContain(missing);
      expect(error.message).toContain('does not exist');
      expect(existsSync(join(folder.path, 'no-such-folder'))).toBe(false);
    });

    it('reports a database corrupted after it was opened, as DATABASE_UNAVAILABLE', async () => {
      const repo = open();
      await repo.init();
      await givenNeighbours(repo, 300);
      await repo.close();
      corruptAllPagesButTheFirst(path);
      const reopened = open();
      await expect(reopened.findDue(minutesFromNow(120), 1_000)).rejects.toMatchObject({
        code: 'DATABASE_UNAVAILABLE',
        cause: expect.objectContaining({ code: 'ERR_SQLITE_ERROR' }) as unknown,
      });
    });

    it('fails within the busy timeout when another connection holds an exclusive lock at open', () => {
      // A database in rollback-journal mode: an exclusive lock there keeps even readers out.
      const holder = new DatabaseSync(path);
      holder.exec('CREATE TABLE other (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO other VALUES (1);');
      try {
        const started = Date.now();
        const error = openError(() => open({ busyTimeoutMs: 300 }));
        const waited = Date.now() - started;
        expect(error.message).toContain(path);
        expect(error.message).toMatch(/locked/);
        expect(waited).toBeGreaterThanOrEqual(250);
        expect(waited).toBeLessThan(3_000);
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
    });

    it('fails a write within the busy timeout while another connection holds BEGIN EXCLUSIVE', async () => {
      const repo = open({ busyTimeoutMs: 300 });
      await repo.init();
      const holder = new DatabaseSync(path);
      holder.exec('BEGIN EXCLUSIVE');
      try {
        const started = Date.now();
        await expect(givenReady(repo)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
        const waited = Date.now() - started;
        expect(waited).toBeGreaterThanOrEqual(250);
        expect(waited).toBeLessThan(3_000);
        await expect(repo.ping()).resolves.toBeUndefined(); // WAL: readers are not blocked
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
      await expect(givenReady(repo)).resolves.toEqual(expect.any(String)); // and it recovers
    });

    it('reports a call made before init as DATABASE_UNAVAILABLE', async () => {
      const repo = open();
      await expect(repo.findById(newId())).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    });
  });

  describe('purging', () => {
    it('deletes only a record whose purge began', async () => {
      const repo = open();
      await repo.init();
      const id = await givenReady(repo);
      await repo.deletePurged(id);
      expect(await repo.findById(id)).toMatchObject({ state: 'ready' });
    });
  });

  describe('closing', () => {
    it('keeps the records for the next process, refuses calls afterwards, and closes twice', async () => {
      const repo = open();
      await repo.init();
      const id = await givenReady(repo, { downloads: 2 });
      await repo.close();
      await repo.close();
      await expect(repo.findById(id)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      await expect(repo.ping()).rejects.toBeInstanceOf(AppError);
      expect(await open().findById(id)).toMatchObject({ state: 'ready', downloadsLeft: 2 });
    });

    it('commits the writes already asked for (they wait for the end of the turn) before it closes', async () => {
      const repo = open();
      await repo.init();
      const id = await givenReady(repo, { downloads: 2 });
      const claimed = repo.claim(id, new Date(), minutesFromNow(1));
      const revoked = repo.expireNow(id, new Date());
      await repo.close();
      expect(await claimed).toMatchObject({ file: { id, downloadsLeft: 1 } });
      expect(await revoked).toBe(true);
      expect(await open().findById(id)).toMatchObject({ downloadsLeft: 1, activeStreams: 1 });
    });
  });

  describe('several connections on one file', () => {
    it('lets exactly k = 600 of 4 × 250 claims win across processes, each download taken once', async () => {
      const repo = open();
      await repo.init();
      const downloads = 600;
      const id = await givenReady(repo, { downloads });
      await repo.close();

      const won = await raceClaimsAcrossProcesses(path, id, 4, 250);
      const all = won.flat();
      expect(all).toHaveLength(downloads);
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: downloads }, (_, left) => left));
      const reopened = open();
      expect(await reopened.findById(id)).toMatchObject({ downloadsLeft: 0, activeStreams: downloads });
    });

    it('lets a purge by one connection shut out the give-back and claims of another', async () => {
      const first = open();
      await first.init();
      const second = open();
      const id = await givenReady(first);
      const claim = await mustClaim(second, id, new Date(Date.now() - 1_000));
      expect(await first.beginPurge(id, new Date())).toMatchObject({ state: 'purging' });
      await second.releaseClaim(claim);
      expect(await second.claim(id, new Date(), minutesFromNow(1))).toBeNull();
    });
  });
});

/** A record whose every value is random and long enough to be found unambiguously in raw bytes. */
async function givenDistinctiveRecord(repo: SqliteFileRepository) {
  const id = newId();
  const values = {
    id,
    deleteTokenHash: randomBytes(32).toString('hex'),
    sealedMeta0: randomBytes(96).toString('base64url'),
    sealedMeta1: randomBytes(96).toString('base64url'),
    blob0: `${id}/${randomBytes(12).toString('hex')}`,
    blob1: `${id}/${randomBytes(12).toString('hex')}`,
    closedSession: randomBytes(32).toString('base64url'),
    endedSession: randomBytes(32).toString('base64url'),
  };
  await repo.createUpload({ id, deleteTokenHash: values.deleteTokenHash, createdAt: new Date(), deadline: minutesFromNow(5) });
  await repo.addPart(id, { blob: values.blob0 });
  await repo.addPart(id, { blob: values.blob1 });
  const parts = [
    { blob: values.blob0, size: 10, meta: values.sealedMeta0 },
    { blob: values.blob1, size: 20, meta: values.sealedMeta1 },
  ];
  await repo.markReady(id, { size: 30, parts, expiresAt: minutesFromNow(60), downloadsLeft: 2 });
  // Two downloads, each with a resume session: one delivered (closed), one whose window has ended.
  const delivered = await repo.openSession(await mustClaim(repo, id), values.closedSession, minutesFromNow(60));
  await repo.closeSession(delivered);
  await repo.endStream(delivered, new Date());
  const cutOff = await repo.openSession(await mustClaim(repo, id), values.endedSession, new Date(Date.now() - 1_000));
  await repo.endStream(cutOff, new Date());
  return { id, values };
}

async function givenNeighbours(repo: SqliteFileRepository, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await givenReady(repo, { downloads: 2 });
}

function openError(openIt: () => unknown): AppError {
  try {
    openIt();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    return error as AppError;
  }
  throw new Error('expected opening the database to fail');
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
