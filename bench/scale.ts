/**
 * Section 5: the small-file round trips again with many records already in MongoDB (seeded directly, half of them
 * expired), and one sweeper pass over them, bounded to a number of due records so it ends in bench time.
 */
import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { loadConfig, type FileRecord } from '@one-time/core';
import type { FileRepository } from '@one-time/db';
import { connectInfrastructure } from '@one-time/infra';
import { PurgeService, Sweeper, type SweepReport } from '@one-time/service';
import { MONGO_URL, REDIS_URL, progress, timed } from './support.ts';

const SEED_BATCH = 10_000;

export interface ScaleResult {
  readonly records: number;
  readonly expired: number;
  readonly seedSeconds: number;
  /** One `findDue` (the sweeper's query for a batch of 500) over all the records. */
  readonly findDueSeconds: number;
  readonly sweep: SweepReport & { readonly bound: number; readonly seconds: number };
  readonly liveAfterSweep: number;
  readonly dueAfterSweep: number;
}

/** Inserts `count` records that look like real ones (ids, parts, sealed-size fields); every other one expired. */
export async function seedRecords(files: Collection<FileRecord>, count: number): Promise<number> {
  progress(`seeding ${count.toLocaleString('en')} records (half expired) straight into MongoDB`);
  const now = Date.now();
  const { seconds } = await timed(async () => {
    for (let start = 0; start < count; start += SEED_BATCH) {
      const docs = Array.from({ length: Math.min(SEED_BATCH, count - start) }, (_, i): FileRecord => {
        const n = start + i;
        const id = randomBytes(32).toString('base64url');
        return {
          _id: id,
          state: 'ready',
          parts: [{ blob: `seeded-${id}`, size: 1024, meta: randomBytes(60).toString('base64url') }],
          size: 1024,
          createdAt: new Date(now - 3_600_000),
          expiresAt: new Date(n % 2 === 0 ? now - 60_000 - n : now + 7 * 86_400_000 + n),
          downloadsLeft: 1,
          activeStreams: 0,
          leaseUntil: null,
          deleteTokenHash: randomBytes(32).toString('base64url'),
        };
      });
      await files.insertMany(docs, { ordered: false });
    }
  });
  return seconds;
}

/** Runs the worker's sweeper in this process, on the run's database, stopping after `bound` due records. */
export async function boundedSweep(
  files: Collection<FileRecord>,
  id: string,
  count: number,
  seedSeconds: number,
  bound: number,
): Promise<ScaleResult> {
  const config = loadConfig({ MONGO_URL, MONGO_DB: id, REDIS_URL, QUEUE_PREFIX: id, AZURE_CONTAINER: id, LOG_LEVEL: 'silent' });
  const infra = await connectInfrastructure(config);
  try {
    progress('timing one findDue over every record');
    const findDue = await timed(() => infra.files.findDue(new Date(), 500));
    progress(`one sweeper pass, bounded to ${bound} due records`);
    const bounded = boundDue(infra.files, bound);
    const purger = new PurgeService({ files: bounded, blobs: infra.blobs });
    const sweeper = new Sweeper({ files: bounded, blobs: infra.blobs, purger, log: silentLog, orphanGraceMs: 3_600_000 });
    const pass = await timed(() => sweeper.sweep());
    const now = new Date();
    const [liveAfterSweep, dueAfterSweep] = await Promise.all([
      files.countDocuments({ expiresAt: { $gt: now }, downloadsLeft: { $gt: 0 } }),
      files.countDocuments({ $or: [{ expiresAt: { $lte: now } }, { downloadsLeft: { $lte: 0 } }] }),
    ]);
    return {
      records: count,
      expired: Math.ceil(count / 2),
      seedSeconds,
      findDueSeconds: findDue.seconds,
      sweep: { ...pass.value, bound, seconds: pass.seconds },
      liveAfterSweep,
      dueAfterSweep,
    };
  } finally {
    await infra.close();
  }
}

/** The same repository, but `findDue` reports no more than `bound` records in all, so one pass ends. */
function boundDue(files: FileRepository, bound: number): FileRepository {
  let reported = 0;
  return new Proxy(files, {
    get(target, property, receiver) {
      if (property === 'findDue') {
        return async (now: Date, limit: number): Promise<string[]> => {
          if (reported >= bound) return [];
          const ids = (await target.findDue(now, Math.min(limit, bound - reported))).slice(0, bound - reported);
          reported += ids.length;
          return ids;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const silentLog = { info() {}, warn() {}, error() {} };
