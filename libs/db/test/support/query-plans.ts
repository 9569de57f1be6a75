import { DatabaseSync } from 'node:sqlite';
import { expect } from 'vitest';
import { DUE_INDEXES } from '@one-time/db/sqlite';
import { SQL } from '../../src/sqlite/queries.ts';

/** Rows written straight into the table: one in 100 used up; expiries spread around `now`, one per second. */
export function fillWithRows(path: string, count: number, now: number): void {
  const raw = new DatabaseSync(path);
  try {
    raw
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last)
         INSERT INTO files (id, state, parts, size, created_at, expires_at, downloads_left, active_streams,
                            lease_until, delete_token_hash)
         SELECT 'row-' || i, CASE WHEN i % 10 = 0 THEN 'uploading' ELSE 'ready' END, '[]', 1, :now,
                :now + ((i % 1000) - 500) * 1000, CASE WHEN i % 100 = 1 THEN 0 ELSE 1 END, 0, NULL, 'h'
         FROM n`,
      )
      .run({ last: count - 1, now });
  } finally {
    raw.close();
  }
}

/**
 * Every step that reads `files` is a SEARCH on an index (a range or key lookup), or a SCAN of a partial
 * index (which holds only the rows it is for): never a scan of the table or of a whole index.
 */
export function expectIndexedPlans(raw: DatabaseSync): void {
  const plan = (query: keyof typeof SQL) =>
    raw
      .prepare(`EXPLAIN QUERY PLAN ${SQL[query]}`)
      .all()
      .map((row) => String(row.detail));
  const partialIndexes = raw
    .prepare('PRAGMA index_list(files)')
    .all()
    .filter((index) => index.partial === 1)
    .map((index) => String(index.name));
  expect(partialIndexes).toEqual(['files_used_up']);

  const findDue = plan('findDue').join('\n');
  for (const index of DUE_INDEXES) expect(findDue).toMatch(new RegExp(`INDEX ${index}\\b`));

  const queries = Object.keys(SQL).filter((name): name is keyof typeof SQL => !['ping', 'checkpoint'].includes(name));
  for (const query of queries) {
    for (const step of plan(query).filter((detail) => /\b(SCAN|SEARCH) files\b/.test(detail))) {
      const scannedIndex = /^SCAN files USING (?:COVERING )?INDEX (\w+)$/.exec(step)?.[1];
      if (scannedIndex !== undefined) expect(partialIndexes, `${query}: ${step}`).toContain(scannedIndex);
      else expect(step, query).toMatch(/^SEARCH files USING (?:(?:COVERING )?INDEX \w+|INTEGER PRIMARY KEY) \(/);
    }
  }
}
