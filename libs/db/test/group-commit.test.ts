import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@one-time/core';
import { GroupCommit } from '../src/sqlite/group-commit.ts';
import { toAppError } from '../src/sqlite/sqlite-errors.ts';
import { makeTempFolder } from './support/temp-folder.ts';

/** Group commit on a real database file, watched from a second connection as another process would. */
describe('GroupCommit', () => {
  let folder: ReturnType<typeof makeTempFolder>;
  let writer: DatabaseSync;
  let observer: DatabaseSync;
  let commits: GroupCommit;

  const insert =
    (id: string, note = 'x') =>
    () =>
      writer.prepare('INSERT INTO notes (id, note) VALUES (?, ?)').run(id, note).changes;
  const idsSeen = () =>
    observer
      .prepare('SELECT id FROM notes ORDER BY id')
      .all()
      .map((row) => row.id);

  beforeEach(() => {
    folder = makeTempFolder();
    const path = join(folder.path, 'notes.db');
    writer = new DatabaseSync(path, { timeout: 50 });
    writer.exec('PRAGMA journal_mode = WAL');
    writer.exec('CREATE TABLE notes (id TEXT PRIMARY KEY, note TEXT NOT NULL) STRICT');
    observer = new DatabaseSync(path, { timeout: 50 });
    commits = new GroupCommit(writer, toAppError);
  });
  afterEach(() => {
    commits.flush();
    observer.close();
    writer.close();
    folder.remove();
  });

  it('commits the writes of one turn together: another connection sees none of them, then all', async () => {
    const written = ['a', 'b', 'c'].map((id) => commits.run(insert(id)));
    expect(idsSeen()).toEqual([]); // nothing runs until the turn's writes are all in
    expect(await Promise.all(written)).toEqual([1, 1, 1]);
    expect(idsSeen()).toEqual(['a', 'b', 'c']);
  });

  it('runs a batch in the order the writes were asked for, each seeing the ones before it', async () => {
    const first = commits.run(insert('a', 'first'));
    const update = commits.run(() => writer.prepare("UPDATE notes SET note = 'second' WHERE id = 'a'").run().changes);
    expect(await Promise.all([first, update])).toEqual([1, 1]);
    expect(observer.prepare('SELECT note FROM notes').get()?.note).toBe('second');
  });

  it('settles a write only once its batch has committed', async () => {
    const seenWhenSettled = await commits.run(insert('a')).then(() => idsSeen());
    expect(seenWhenSettled).toEqual(['a']);
  });

  it('fails a write that fails on its own alone; the rest of its batch commits', async () => {
    await commits.run(insert('taken'));
    const results = await Promise.allSettled([commits.run(insert('a')), commits.run(insert('taken')), commits.run(insert('b'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const failure = (results[1] as PromiseRejectedResult).reason as AppError;
    expect(failure).toBeInstanceOf(AppError);
    expect(failure.code).toBe('DATABASE_UNAVAILABLE');
    expect(idsSeen()).toEqual(['a', 'b', 'taken']);
  });

  it('gives every write its own answer when the disk fills up in the middle of a batch', async () => {
    await commits.run(insert('small'));
    // The file may not grow past its present pages: a row that needs a new page fails with SQLITE_FULL.
    const pages = Number(writer.prepare('PRAGMA page_count').get()?.page_count);
    writer.exec(`PRAGMA max_page_count = ${pages}`);
    const results = await Promise.allSettled([
      commits.run(() => writer.prepare("UPDATE notes SET note = 'changed' WHERE id = 'small'").run().changes),
      commits.run(insert('big', 'y'.repeat(64 * 1024))),
      commits.run(() => writer.prepare("UPDATE notes SET note = 'changed again' WHERE id = 'small'").run().changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String(((results[1] as PromiseRejectedResult).reason as AppError).cause)).toMatch(/full/i);
    expect(observer.prepare('SELECT id, note FROM notes').all()).toEqual([{ id: 'small', note: 'changed again' }]);
  });

  it('fails the whole batch, and applies none of it, when another connection holds the write lock too long', async () => {
    observer.exec('BEGIN IMMEDIATE');
    const results = await Promise.allSettled([commits.run(insert('a')), commits.run(insert('b'))]);
    observer.exec('ROLLBACK');
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const result of results) {
      expect(((result as PromiseRejectedResult).reason as AppError).code).toBe('DATABASE_UNAVAILABLE');
    }
    expect(idsSeen()).toEqual([]);
    expect(writer.isTransaction).toBe(false);
  });

  it('commits what is queued when flushed at once (before a checkpoint or close)', async () => {
    const written = [commits.run(insert('a')), commits.run(insert('b'))];
    commits.flush();
    expect(idsSeen()).toEqual(['a', 'b']);
    expect(await Promise.all(written)).toEqual([1, 1]);
  });
});
