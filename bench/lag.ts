/**
 * Purge lag and expiry lag, measured under load: while the small-file clients run, one of their round trips
 * every SAMPLE_EVERY_MS is watched from the end of its download until its record and its blob are gone, and a
 * prober uploads files with a short TTL, each watched from its expiry time until gone. Watching goes through
 * the ports, on a connection of this process: `existingIds` for the records, then `exists` for the blobs.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileIdForCode } from '@one-time/core';
import { redisCpuSeconds, type OpenedStores, type Stack } from './deployment.ts';
import { RefusedError, smallFiles, uploadSmall, type SmallFilesResult } from './small-files.ts';
import {
  cell,
  cpuMeter,
  figure,
  msCell,
  summarize,
  textCell,
  type CpuUse,
  type Figure,
  type PerStores,
  type Summary,
  type Target,
} from './support.ts';

const POLL_MS = 20;
const SAMPLE_EVERY_MS = 50;
const EXPIRY_TTL_S = 2;
const EXPIRY_PROBE_EVERY_MS = 100;
/** After the load, how long files still present are waited for before they count as never gone. */
const DRAIN_MS = 120_000;

export interface LagResult {
  /** End of the (last) download → record and blob gone. */
  readonly purgeLagMs: Summary;
  /** Expiry time → record and blob gone. */
  readonly expiryLagMs: Summary;
  /** Watched files still present DRAIN_MS after the load ended (their lag counts as infinite). */
  readonly neverGone: number;
  /** Expiry probes the API refused or failed. */
  readonly probeErrors: number;
  /** Mean time between two looks at one file: the measurement's resolution. */
  readonly pollMs: number;
}

export interface LoadResult {
  readonly load: SmallFilesResult;
  readonly lag: LagResult;
  /** CPU the API, the worker, Redis and this process (clients and lag watcher) used during the load. */
  readonly cpu: CpuUse;
}

/** `clients` small-file clients for `durationMs`, with purge and expiry lags sampled while they run. */
export async function smallFilesWithLags(
  { url, api, worker }: Stack,
  stores: OpenedStores,
  clients: number,
  durationMs: number,
): Promise<LoadResult> {
  const cpu = cpuMeter({ api: api.pid, worker: worker.pid, bench: process.pid });
  const redisBefore = await redisCpuSeconds();
  const watcher = new GoneWatcher(stores);
  const purgeLags: Array<Promise<number>> = [];
  let lastSample = 0;
  const until = Date.now() + durationMs;
  const prober = probeExpiry(url, stores, watcher, until - EXPIRY_TTL_S * 1000 - 1000);
  prober.catch(() => undefined); // awaited (and so thrown) after the load; until then not "unhandled"
  const load = await smallFiles(url, {
    clients,
    durationMs,
    afterUpload: async ({ code }) => {
      if (Date.now() - lastSample < SAMPLE_EVERY_MS) return undefined;
      lastSample = Date.now();
      // The bench's own look-up: if the store is busy, this round trip is just not sampled.
      const parts = await partsOf(stores, code).catch(() => undefined);
      if (!parts) return undefined;
      return (downloadedAt) => purgeLags.push(watcher.watch(parts.fileId, parts.blobs).then((goneAt) => goneAt - downloadedAt));
    },
  });
  const expiry = await prober;
  const counted = cpu();
  const cpuUse = { ...counted, seconds: { ...counted.seconds, redis: (await redisCpuSeconds()) - redisBefore } };
  await watcher.finish(DRAIN_MS);
  const purge = await Promise.all(purgeLags);
  const expiryLags = await Promise.all(expiry.lags);
  const lags = [...purge, ...expiryLags];
  return {
    load,
    cpu: cpuUse,
    lag: {
      purgeLagMs: summarize(purge.map(infiniteIfNaN)),
      expiryLagMs: summarize(expiryLags.map(infiniteIfNaN)),
      neverGone: lags.filter((lag) => Number.isNaN(lag)).length,
      probeErrors: expiry.errors,
      pollMs: watcher.meanPollMs,
    },
  };
}

const infiniteIfNaN = (n: number) => (Number.isNaN(n) ? Number.POSITIVE_INFINITY : n);

/** The file id and blob names of a fresh upload, read from its record. */
async function partsOf(stores: OpenedStores, code: string): Promise<{ fileId: string; blobs: string[] }> {
  const fileId = fileIdForCode(code);
  const record = await stores.files.findById(fileId);
  if (!record || record.parts.length === 0) throw new Error(`no record with parts for a fresh upload (${fileId})`);
  return { fileId, blobs: record.parts.map((part) => part.blob) };
}

/** One upload with a short TTL every EXPIRY_PROBE_EVERY_MS until `lastStart`; each watched until gone. */
async function probeExpiry(
  url: string,
  stores: OpenedStores,
  watcher: GoneWatcher,
  lastStart: number,
): Promise<{ lags: Array<Promise<number>>; errors: number }> {
  const lags: Array<Promise<number>> = [];
  let errors = 0;
  for (let i = 0; Date.now() < lastStart; i++) {
    const started = Date.now();
    try {
      const uploaded = await uploadSmall(url, randomBytes(1024), 1_000_000_000 + i, `${EXPIRY_TTL_S}s`);
      const { fileId, blobs } = await partsOf(stores, uploaded.code);
      const expiresAt = Date.parse(uploaded.expiresAt);
      lags.push(watcher.watch(fileId, blobs).then((goneAt) => goneAt - expiresAt));
    } catch (error) {
      // A 4xx means the bench asks for something the API does not allow (a TTL below TTL_MIN, say): fatal. A 408
      // is the server too slow to read the body in time (FerretDB on a seeded store): counted, like a 503.
      const refused = error instanceof RefusedError && (!error.status.startsWith('4') || error.status === '408');
      if (!refused && !(error instanceof Error && 'code' in error)) throw error;
      errors += 1;
    }
    await sleep(Math.max(0, EXPIRY_PROBE_EVERY_MS - (Date.now() - started)));
  }
  return { lags, errors };
}

interface Watched {
  readonly blobs: readonly string[];
  readonly gone: (at: number) => void;
}

/** Polls every watched file until its record and its blobs are gone; resolves each watch with that time. */
class GoneWatcher {
  readonly #stores: OpenedStores;
  readonly #pending = new Map<string, Watched>();
  readonly #loop: Promise<void>;
  #deadline = Number.POSITIVE_INFINITY;
  #finishing = false;
  #polls = 0;
  #pollTime = 0;

  constructor(stores: OpenedStores) {
    this.#stores = stores;
    this.#loop = this.#run();
  }

  /** Resolves with the time (ms since the epoch) the file was first seen gone, or NaN if it never was. */
  watch(fileId: string, blobs: readonly string[]): Promise<number> {
    return new Promise((resolve) => this.#pending.set(fileId, { blobs, gone: resolve }));
  }

  /** Waits until nothing is pending, or `timeoutMs`; what is still there then is never gone. */
  async finish(timeoutMs: number): Promise<void> {
    this.#finishing = true;
    this.#deadline = Date.now() + timeoutMs;
    await this.#loop;
    for (const watched of this.#pending.values()) watched.gone(Number.NaN);
    this.#pending.clear();
  }

  get meanPollMs(): number {
    return this.#pollTime / Math.max(1, this.#polls);
  }

  async #run(): Promise<void> {
    let last = performance.now();
    while (!(this.#finishing && (this.#pending.size === 0 || Date.now() > this.#deadline))) {
      if (this.#pending.size > 0) {
        await this.#poll().catch(() => undefined); // a store busy for a moment: the next poll looks again
        const now = performance.now();
        this.#polls += 1;
        this.#pollTime += now - last;
        last = now;
      } else {
        last = performance.now();
      }
      await sleep(POLL_MS);
    }
  }

  async #poll(): Promise<void> {
    const ids = [...this.#pending.keys()];
    const present = await this.#stores.files.existingIds(ids);
    const seenAt = Date.now();
    for (const id of ids) {
      const watched = this.#pending.get(id);
      if (!watched || present.has(id)) continue;
      // Blobs go before the record, so they should be gone by now; a purge that failed half way shows here.
      const left = await Promise.all(watched.blobs.map((blob) => this.#stores.blobs.exists(blob)));
      if (left.some(Boolean)) continue;
      this.#pending.delete(id);
      watched.gone(seenAt);
    }
  }
}

// ----------------------------------------------------------------------------------------------- report ---

/** The load's figures; `targets`: judge them against the goals (the empty-store run). */
export function loadFigures(label: string, results: PerStores<LoadResult>, targets: boolean): Figure[] {
  const goal = (target: Target) => (targets ? target : undefined);
  const errors = (r: LoadResult) =>
    Object.entries(r.load.errors)
      .map(([what, n]) => `${n} × ${what}`)
      .join(', ') || '0';
  const spread = (s: Summary) => textCell(`${whole(s.p50)} / ${whole(s.max)} ms (n = ${s.count})`);
  return [
    figure(`${label}: round trips/s`, results, (r) => cell(r.load.roundTripsPerSecond), goal({ op: '≥', bound: 800 })),
    figure(`${label}: round trips (clients × s)`, results, (r) =>
      textCell(`${r.load.roundTrips} (${r.load.clients} × ${r.load.seconds.toFixed(0)} s)`),
    ),
    figure(`${label}: upload p50`, results, (r) => msCell(r.load.uploadMs.p50)),
    figure(`${label}: upload p99`, results, (r) => msCell(r.load.uploadMs.p99), goal({ op: '≤', bound: 60, text: '≤ 60 ms' })),
    figure(`${label}: download p50`, results, (r) => msCell(r.load.downloadMs.p50)),
    figure(
      `${label}: download p99`,
      results,
      (r) => msCell(r.load.downloadMs.p99),
      goal({ op: '≤', bound: 60, text: '≤ 60 ms' }),
    ),
    figure(`${label}: errors`, results, (r) => textCell(errors(r), r.load.errorCount), goal({ op: '=', bound: 0, text: '0' })),
    figure(`${label}: purge lag p50 / max`, results, (r) => spread(r.lag.purgeLagMs)),
    figure(
      `${label}: purge lag p99`,
      results,
      (r) => msCell(r.lag.purgeLagMs.p99),
      goal({ op: '<', bound: 1000, text: '< 1 s' }),
    ),
    figure(`${label}: expiry lag p50 / max`, results, (r) => spread(r.lag.expiryLagMs)),
    figure(
      `${label}: expiry lag p99`,
      results,
      (r) => msCell(r.lag.expiryLagMs.p99),
      goal({ op: '<', bound: 2000, text: '< 2 s' }),
    ),
    figure(`${label}: lag poll interval (resolution)`, results, (r) => cell(r.lag.pollMs, 0, ' ms')),
    figure(`${label}: CPU ms per round trip: API / worker / Redis / bench`, results, (r) => {
      const per = (name: string) => (((r.cpu.seconds[name] ?? 0) * 1000) / Math.max(1, r.load.roundTrips)).toFixed(2);
      return textCell(`${per('api')} / ${per('worker')} / ${per('redis')} / ${per('bench')}`);
    }),
    figure(`${label}: CPU % of one core: API / worker / Redis / bench; machine % of all`, results, (r) => {
      const core = (name: string) => ((100 * (r.cpu.seconds[name] ?? 0)) / r.load.seconds).toFixed(0);
      return textCell(
        `${core('api')} / ${core('worker')} / ${core('redis')} / ${core('bench')}; ${r.cpu.machineBusyPercent.toFixed(0)}`,
      );
    }),
  ];
}

const whole = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '∞');
