/**
 * Scale: the small-file load again on a store that already holds many records (seeded through the repository
 * port, 1 % of them due: half expired, half used up), then what a sweeper pass costs on that store, against a
 * small store holding the same number of due records: a pass should cost in proportion to the due records,
 * not to the stored ones.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '@one-time/core';
import type { FileRepository } from '@one-time/db';
import { connectInfrastructure } from '@one-time/infra';
import { PurgeService, Sweeper, type SweepReport } from '@one-time/service';
import type { Deployment } from './deployment.ts';
import { loadFigures, smallFilesWithLags, type LoadResult } from './lag.ts';
import { cell, figure, progress, textCell, timed, type Figure, type PerStores } from './support.ts';

/** One record in this many is due. */
const DUE_EVERY = 100;
const SWEEP_BATCH = 500; // the sweeper's own batch: one findDue asks for this many
const THROUGHPUT_RATIO = 0.8; // target: round trips/s on the seeded store ≥ this × the empty store's
const SWEEP_RATIO = 2; // a pass over the big store may cost at most this × the small store's (same due count)

export interface SeedResult {
  readonly records: number;
  readonly due: number;
  readonly seconds: number;
}

export interface SweepResult {
  readonly stored: number;
  readonly findDueMs: number;
  readonly seconds: number;
  readonly report: SweepReport;
  /** Due records a findDue still returns after the pass (should be 0). */
  readonly dueAfter: number;
}

export interface ScaleResult {
  readonly seed: SeedResult;
  readonly load: LoadResult;
  readonly sweep: SweepResult;
  /** The small store: twice the due records, half of them due. */
  readonly smallSeed: SeedResult;
  readonly smallSweep: SweepResult;
}

export interface ScalePlan {
  readonly records: number;
  readonly clients: number;
  readonly durationMs: number;
  /** Seeding calls in flight (SQLite runs them one by one anyway; FerretDB takes a few at once). */
  readonly seedConcurrency: number;
}

/** `big` gets the API and worker, its records, the load and a timed pass; `small` only records and a pass. */
export async function scale(big: Deployment, small: Deployment, plan: ScalePlan): Promise<ScaleResult> {
  // Started before the seeding, so the worker's start-up sweep finds nothing; its next one is an hour away.
  const stack = await big.start();
  const stores = await big.open();
  const seed = await seedRecords(stores.files, plan.records, DUE_EVERY, plan.seedConcurrency, big.stores);
  progress(`${big.stores}: the small-file load on ${plan.records.toLocaleString('en')} records`);
  const load = await smallFilesWithLags(stack, stores, plan.clients, plan.durationMs);
  await big.stop();
  progress(`${big.stores}: one sweeper pass over ${seed.due.toLocaleString('en')} due of ${seed.records.toLocaleString('en')}`);
  const sweep = await timedSweep(big.config, seed.records);

  const smallSeed = await seedRecords((await small.open()).files, seed.due * 2, 2, plan.seedConcurrency, small.stores);
  progress(
    `${small.stores}: the same pass over ${smallSeed.due.toLocaleString('en')} due of ${smallSeed.records.toLocaleString('en')}`,
  );
  const smallSweep = await timedSweep(small.config, smallSeed.records);
  return { seed, load, sweep, smallSeed, smallSweep };
}

/**
 * `count` records through the port, as an upload makes them (createUpload, then markReady with the sealed part:
 * the record it leaves is the same as with an addPart in between). One in `dueEvery` is due: alternately
 * expired a minute ago and used up (no downloads left); the others expire in 1–7 days.
 */
export async function seedRecords(
  files: FileRepository,
  count: number,
  dueEvery: number,
  concurrency: number,
  label: string,
): Promise<SeedResult> {
  progress(`${label}: seeding ${count.toLocaleString('en')} records through the repository port`);
  const now = Date.now();
  let next = 0;
  let due = 0;
  let reported = performance.now();
  const lane = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const id = randomBytes(32).toString('base64url');
      const blob = `${id}/0`;
      const isDue = n % dueEvery === dueEvery - 1;
      const expired = isDue && due % 2 === 0;
      if (isDue) due += 1;
      await files.createUpload({
        id,
        deleteTokenHash: randomBytes(32).toString('base64url'),
        createdAt: new Date(now - 3_600_000),
        deadline: new Date(now + 6 * 3_600_000),
      });
      await files.markReady(id, {
        size: 1024,
        parts: [{ blob, size: 1024, meta: randomBytes(100).toString('base64url') }],
        expiresAt: new Date(expired ? now - 60_000 - n : now + 86_400_000 + ((n * 7919) % (6 * 86_400_000))),
        downloadsLeft: isDue && !expired ? 0 : 1,
      });
      if (performance.now() - reported > 10_000) {
        reported = performance.now();
        progress(`${label}: ${n.toLocaleString('en')} records seeded`);
      }
    }
  };
  const { seconds } = await timed(() => Promise.all(Array.from({ length: concurrency }, lane)));
  return { records: count, due, seconds };
}

/** A sweeper built as the worker builds it, on its own connections; one findDue timed, then a whole pass. */
async function timedSweep(config: Config, stored: number): Promise<SweepResult> {
  const infra = await connectInfrastructure(config);
  try {
    const purger = new PurgeService({ files: infra.files, blobs: infra.blobs, jobs: infra.purges, log: silentLog });
    const sweeper = new Sweeper({
      files: infra.files,
      blobs: infra.blobs,
      purger,
      log: silentLog,
      orphanGraceMs: config.timing.orphanGraceMs,
    });
    const findDue = await timed(() => infra.files.findDue(new Date(), SWEEP_BATCH));
    const pass = await timed(() => sweeper.sweep());
    const dueAfter = (await infra.files.findDue(new Date(), SWEEP_BATCH)).length;
    return { stored, findDueMs: findDue.seconds * 1000, seconds: pass.seconds, report: pass.value, dueAfter };
  } finally {
    await infra.close();
  }
}

const silentLog = { info() {}, warn() {}, error() {} };

// ----------------------------------------------------------------------------------------------- report ---

export function scaleFigures(results: PerStores<ScaleResult>, empty: PerStores<LoadResult>): Figure[] {
  const n = (x: number) => x.toLocaleString('en');
  const pass = (s: SweepResult) =>
    textCell(
      `${s.seconds.toFixed(2)} s: ${n(s.report.purged)} purged of ${n(s.report.due)} due` +
        `${s.report.failed + s.report.skipped > 0 ? `, ${s.report.skipped} skipped, ${s.report.failed} failed` : ''}` +
        `${s.dueAfter > 0 ? `, ${s.dueAfter}+ still due` : ''} (${((s.seconds * 1e6) / Math.max(1, s.report.due)).toFixed(0)} µs each)`,
      s.seconds,
    );
  return [
    figure('records stored (due), seeded through the port', results, (r) =>
      textCell(
        `${n(r.seed.records)} (${n(r.seed.due)}) in ${r.seed.seconds.toFixed(0)} s, ${n(Math.round(r.seed.records / r.seed.seconds))}/s`,
      ),
    ),
    figure(
      'seeded store: round trips/s',
      {
        embedded: results.embedded && { r: results.embedded, e: empty.embedded },
        scaleOut: results.scaleOut && { r: results.scaleOut, e: empty.scaleOut },
      },
      ({ r, e }) => {
        const ratio = e ? r.load.load.roundTripsPerSecond / e.load.roundTripsPerSecond : Number.NaN;
        return { value: ratio, shown: `${r.load.load.roundTripsPerSecond.toFixed(1)} (${ratio.toFixed(2)} × empty)` };
      },
      { op: '≥', bound: THROUGHPUT_RATIO, text: `≥ ${THROUGHPUT_RATIO} × empty` },
    ),
    ...loadFigures('seeded store', { embedded: results.embedded?.load, scaleOut: results.scaleOut?.load }, false).filter(
      (f) => !f.label.endsWith('round trips/s'),
    ),
    figure('one findDue (500): seeded store / small store', results, (r) =>
      textCell(`${r.sweep.findDueMs.toFixed(1)} / ${r.smallSweep.findDueMs.toFixed(1)} ms`),
    ),
    figure('sweeper pass, seeded store', results, (r) => pass(r.sweep)),
    figure('sweeper pass, small store (same due, 2 × due stored)', results, (r) => pass(r.smallSweep)),
    figure('sweeper pass time, seeded ÷ small store', results, (r) => cell(r.sweep.seconds / r.smallSweep.seconds, 2, ' ×'), {
      op: '≤',
      bound: SWEEP_RATIO,
      text: `≤ ${SWEEP_RATIO} ×`,
    }),
  ];
}
