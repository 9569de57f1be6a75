/**
 * `npm run bench [-- --quick] [-- --sizes 100,1024]`: every benchmark section against the real services on this
 * machine, in one run. Prints markdown tables to stdout (progress to stderr) and writes every raw figure to
 * bench/results.json. `--quick` is the same with smaller numbers (under 2 minutes here).
 *
 *  1, 2, 6. large files: upload and download through the API vs straight to Azurite; the API's RSS; encryption.
 *  3. small files: 1 KiB upload + download round trips from 32 concurrent clients.
 *  4. purge lag and expiry lag, p50/p99.
 *  5. scale: 3. again with many records already in MongoDB (half expired), and a bounded sweeper pass.
 *
 * Exits non-zero when a download differs from its upload or a section fails. Everything it creates (databases,
 * containers, queue keys, processes) is removed at the end. Traffic goes to 127.0.0.1 only.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { MongoClient } from 'mongodb';
import { AZURITE_DEV_CONNECTION_STRING, type FileRecord } from '@one-time/core';
import { FILES_COLLECTION } from '@one-time/db';
import { largeFiles } from './large-files.ts';
import { lags } from './lag.ts';
import { boundedSweep, seedRecords } from './scale.ts';
import { SMALL_FILES_HEADER, smallFiles, smallFilesRow } from './small-files.ts';
import {
  MONGO_URL,
  listeningUrl,
  markdownTable,
  printed,
  progress,
  removeData,
  spawnService,
  stopService,
  type Service,
} from './support.ts';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const TOTAL_TIMEOUT_MS = 30 * 60_000;

interface Plan {
  readonly sizesMiB: readonly number[];
  readonly smallFiles: number;
  readonly lagFiles: number;
  readonly scaleRecords: number;
  readonly scaleRoundTrips: number;
  readonly sweepBound: number;
}

// Scale: the issue asks for 1,000,000 records. The MongoDB stand-in here (FerretDB 1.24 on SQLite) scans the whole
// collection for every query that is not an ObjectId `_id` (ours are strings), so a request costs time in
// proportion to the records; a few thousand is as far as a run here can go (see README). `--records` overrides.
const FULL: Plan = {
  sizesMiB: [100, 1024],
  smallFiles: 2000,
  lagFiles: 200,
  scaleRecords: 5_000,
  scaleRoundTrips: 40,
  sweepBound: 40,
};
const QUICK: Plan = {
  sizesMiB: [10, 100],
  smallFiles: 200,
  lagFiles: 30,
  scaleRecords: 2_000,
  scaleRoundTrips: 40,
  sweepBound: 40,
};
const SCALE_CLIENTS = 8;
const CLIENTS = 32;

function parsePlan(args: readonly string[]): Plan & { readonly quick: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: { quick: { type: 'boolean' }, sizes: { type: 'string' }, records: { type: 'string' } },
  });
  const chosen = values.quick ? QUICK : FULL;
  const records = values.records === undefined ? chosen.scaleRecords : Number(values.records);
  if (!Number.isInteger(records) || records < 2) throw new Error(`--records wants a whole number, not "${values.records}"`);
  const plan = { ...chosen, scaleRecords: records };
  if (values.sizes === undefined) return { ...plan, quick: values.quick === true };
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`--sizes wants whole MiB such as 100,1024, not "${values.sizes}"`);
  return { ...plan, sizesMiB: sizes, quick: values.quick === true };
}

/** One isolated deployment: its own database, container and queue prefix, and the processes running on them. */
interface Deployment {
  readonly id: string;
  readonly container: ContainerClient;
  readonly processes: Service[];
}

async function main(): Promise<number> {
  const plan = parsePlan(process.argv.slice(2));
  const started = Date.now();
  const mongo = await MongoClient.connect(MONGO_URL);
  const blobService = BlobServiceClient.fromConnectionString(AZURITE_DEV_CONNECTION_STRING);
  const deployments: Deployment[] = [];
  const deploy = (suffix: string): Deployment => {
    const id = `bench${Date.now()}${suffix}`;
    const deployment = { id, container: blobService.getContainerClient(id), processes: [] };
    deployments.push(deployment);
    return deployment;
  };
  const startApi = async (d: Deployment) => {
    const api = spawnService('api', d.id);
    d.processes.push(api);
    return { api, url: await listeningUrl(api) };
  };
  const startWorker = async (d: Deployment) => {
    const worker = spawnService('worker', d.id);
    d.processes.push(worker);
    await printed(worker, /worker running/);
    return worker;
  };

  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      progress('cleaning up');
      for (const d of deployments) {
        for (const service of d.processes) await stopService(service);
        await removeData(d.id, d.container);
      }
      await mongo.close();
    })());
  const giveUp = (why: string, code: number) => {
    progress(why);
    void cleanUp().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(() => giveUp(`over ${TOTAL_TIMEOUT_MS / 60_000} min; giving up`, 1), TOTAL_TIMEOUT_MS);
  process.once('SIGINT', () => giveUp('interrupted', 130));

  try {
    const main = deploy('a');
    const { api, url } = await startApi(main);
    await startWorker(main);
    progress(`API ${url} (pid ${api.pid}), worker running; deployment ${main.id}`);

    const large = await largeFiles(api, url, main.container, plan.sizesMiB);
    // Lags first, on an idle worker; then the load.
    const files = mongo.db(main.id).collection<FileRecord>(FILES_COLLECTION);
    const lag = await lags(url, files, main.container, plan.lagFiles);
    progress(`small files: ${plan.smallFiles} round trips, ${CLIENTS} clients`);
    const small = await smallFiles(url, plan.smallFiles, CLIENTS);

    // Scale: a second deployment whose database holds many records. Its worker is not started: the round trips
    // measure what the records cost the API, and the sweeper pass is run here, bounded and timed.
    const big = deploy('b');
    const bigFiles = mongo.db(big.id).collection<FileRecord>(FILES_COLLECTION);
    const second = await startApi(big);
    progress(`scale: ${plan.scaleRoundTrips} round trips, ${SCALE_CLIENTS} clients, on an empty database`);
    const smallEmpty = await smallFiles(second.url, plan.scaleRoundTrips, SCALE_CLIENTS);
    const seedSeconds = await seedRecords(bigFiles, plan.scaleRecords);
    progress(`scale: the same with ${plan.scaleRecords.toLocaleString('en')} records present`);
    const smallAtScale = await smallFiles(second.url, plan.scaleRoundTrips, SCALE_CLIENTS);
    const scale = await boundedSweep(bigFiles, big.id, plan.scaleRecords, seedSeconds, plan.sweepBound);

    const records = plan.scaleRecords.toLocaleString('en');
    const ms = (n: number) => n.toFixed(0);
    process.stdout.write(
      `## 1, 2, 6. Large files\n\n${large.markdown}\n` +
        `## 3. Small files (1 KiB upload + download)\n\n` +
        `${markdownTable(SMALL_FILES_HEADER, [
          smallFilesRow('empty database', small),
          smallFilesRow('5: empty database', smallEmpty),
          smallFilesRow(`5: ${records} records`, smallAtScale),
        ])}\n\n` +
        `## 4. Purge and expiry lag (${lag.files} files each; poll every ${lag.pollMs.toFixed(0)} ms on average)\n\n` +
        `${markdownTable(
          ['lag', 'p50 ms', 'p99 ms', 'max ms'],
          [
            ['end of download → blob and record gone', ms(lag.purgeLagMs.p50), ms(lag.purgeLagMs.p99), ms(lag.purgeLagMs.max)],
            ['expiry time → blob and record gone', ms(lag.expiryLagMs.p50), ms(lag.expiryLagMs.p99), ms(lag.expiryLagMs.max)],
          ],
        )}\n\n` +
        `## 5. Scale (${records} records seeded, ${scale.expired.toLocaleString('en')} of them expired)\n\n` +
        `${markdownTable(
          ['what', 'figure'],
          [
            ['seeding', `${scale.seedSeconds.toFixed(1)} s (${(scale.records / scale.seedSeconds).toFixed(0)} records/s)`],
            [
              'round trips/s, empty → seeded',
              `${smallEmpty.roundTripsPerSecond.toFixed(1)} → ${smallAtScale.roundTripsPerSecond.toFixed(1)}`,
            ],
            [
              'round trip p50 / p99, empty → seeded',
              `${smallEmpty.roundTripMs.p50.toFixed(0)} / ${smallEmpty.roundTripMs.p99.toFixed(0)} → ` +
                `${smallAtScale.roundTripMs.p50.toFixed(0)} / ${smallAtScale.roundTripMs.p99.toFixed(0)} ms`,
            ],
            ['one findDue (the sweeper query: up to 500 due ids)', `${scale.findDueSeconds.toFixed(2)} s`],
            [
              `sweeper pass, bounded to ${scale.sweep.bound} due`,
              `${scale.sweep.seconds.toFixed(2)} s: ${scale.sweep.due} due, ${scale.sweep.purged} purged, ${scale.sweep.skipped} skipped, ${scale.sweep.failed} failed`,
            ],
            [
              'after the pass: live / due records',
              `${scale.liveAfterSweep.toLocaleString('en')} / ${scale.dueAfterSweep.toLocaleString('en')}`,
            ],
          ],
        )}\n\n` +
        `Node ${process.version}, ${new Date().toISOString()}, ${plan.quick ? 'quick' : 'full'} run, ${((Date.now() - started) / 1000).toFixed(0)} s.\n`,
    );
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      mode: plan.quick ? 'quick' : 'full',
      seconds: (Date.now() - started) / 1000,
      largeFiles: large.results,
      smallFiles: small,
      lag,
      scale: { ...scale, clients: SCALE_CLIENTS, smallFilesEmpty: smallEmpty, smallFiles: smallAtScale },
    };
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    progress(`raw figures in ${RESULTS_FILE}`);
    return large.hashesOk ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
