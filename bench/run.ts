/**
 * `npm run bench [-- --quick] [-- --stores embedded|scale-out|both] [-- --sizes 100,1024] [-- --records N[,M]]`:
 * every benchmark section against the real services on this machine, on both store configurations (embedded:
 * SQLite + data folder; scale-out: MongoDB + Azure Blob, here FerretDB + Azurite), reported side by side with the
 * issue's targets (judged on the embedded default; scale-out has none). Markdown tables go to stdout, progress to
 * stderr, every raw figure to bench/results.json.
 *
 *  large-files.ts  1 GiB (and 100 MiB) through the API vs straight through the blob store; the API's memory.
 *  lag.ts          1 KiB round trips from 32 clients, with purge and expiry lag measured while they run.
 *  scale.ts        the same on a store seeded with many records (1 % due), and a timed sweeper pass.
 *
 * Each section runs on deployments of its own: a fresh data folder (mkdtemp) or a fresh database and container,
 * a fresh queue prefix, the API and worker as child processes (rate limits lifted). Everything is removed at
 * the end, also on failure or Ctrl-C; traffic goes to 127.0.0.1 only; a watchdog bounds the run.
 * `--records N` sets the embedded store's records (default 1,000,000); `N,M` the scale-out one's too.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDeployment, type Deployment, type Stores } from './deployment.ts';
import { LARGE_FILE_NOTES, encryptionOnlyMiBs, largeFileFigures, largeFiles, type LargeFilesResult } from './large-files.ts';
import { loadFigures, smallFilesWithLags, type LoadResult } from './lag.ts';
import { scale, scaleFigures, type ScaleResult } from './scale.ts';
import { figuresTable, meets, progress, verdictOf, type Figure, type PerStores } from './support.ts';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const CLIENTS = 32;

interface Plan {
  readonly quick: boolean;
  readonly stores: readonly Stores[];
  readonly sizesMiB: readonly number[];
  /** How long each small-file load runs. */
  readonly loadMs: number;
  readonly records: Readonly<Record<Stores, number>>;
  readonly timeoutMs: number;
}

// FerretDB 1.24 on SQLite, the MongoDB stand-in here, pushes no filter down except an ObjectId `_id` (ours are
// strings): every query scans the collection, so a request costs time in proportion to the records. A million
// is out of reach; seeding 2,000 through the port already takes minutes.
const FULL = {
  sizesMiB: [100, 1024],
  loadMs: 30_000,
  records: { embedded: 1_000_000, 'scale-out': 2_000 },
  timeoutMs: 45 * 60_000,
};
const QUICK = { sizesMiB: [10, 100], loadMs: 8_000, records: { embedded: 20_000, 'scale-out': 200 }, timeoutMs: 10 * 60_000 };

function parsePlan(args: readonly string[]): Plan {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean', default: false },
      stores: { type: 'string', default: 'both' },
      sizes: { type: 'string' },
      records: { type: 'string' },
    },
  });
  const base = values.quick ? QUICK : FULL;
  const wholeNumbers = (text: string, what: string, min: number) => {
    const numbers = text.split(',').map((s) => Number(s.trim()));
    if (numbers.some((n) => !Number.isInteger(n) || n < min))
      throw new Error(`${what} wants whole numbers ≥ ${min}, not "${text}"`);
    return numbers;
  };
  const stores: Record<string, readonly Stores[]> = {
    embedded: ['embedded'],
    'scale-out': ['scale-out'],
    both: ['embedded', 'scale-out'],
  };
  const chosen = stores[values.stores];
  if (!chosen) throw new Error(`--stores wants embedded, scale-out or both, not "${values.stores}"`);
  const [embedded, scaleOut] = values.records === undefined ? [] : wholeNumbers(values.records, '--records', 200);
  return {
    quick: values.quick,
    stores: chosen,
    sizesMiB: values.sizes === undefined ? base.sizesMiB : wholeNumbers(values.sizes, '--sizes', 1),
    loadMs: base.loadMs,
    records: { embedded: embedded ?? base.records.embedded, 'scale-out': scaleOut ?? base.records['scale-out'] },
    timeoutMs: base.timeoutMs,
  };
}

interface StoresResult {
  readonly largeFiles: LargeFilesResult;
  readonly empty: LoadResult;
  readonly scale: ScaleResult;
}

/** Every section on one configuration; `deploy` registers each deployment for the final clean-up. */
async function runStores(
  stores: Stores,
  plan: Plan,
  deploy: (label: string, env?: Record<string, string>) => Promise<Deployment>,
): Promise<StoresResult> {
  const main = await deploy('a');
  const stack = await main.start();
  const opened = await main.open();
  // Repeated where a run is short enough: the disk's speed here varies from one run to the next.
  const repeats = plan.quick || stores === 'scale-out' ? 1 : 3;
  const large = await largeFiles(stack.api, stack.url, main, opened, plan.sizesMiB, repeats);
  progress(`${stores}: ${CLIENTS} small-file clients for ${plan.loadMs / 1000} s, lags sampled meanwhile`);
  const empty = await smallFilesWithLags(stack, opened, CLIENTS, plan.loadMs);
  await main.remove();
  // The seeded due records must wait for the timed pass: the worker's periodic sweep (it runs once at start, before
  // the seeding) is put off for an hour there. Purges after a download and at expiry come from their own jobs.
  const [big, small] = [await deploy('b', { SWEEP_INTERVAL: '1h' }), await deploy('c')];
  const scaled = await scale(big, small, {
    records: plan.records[stores],
    clients: CLIENTS,
    durationMs: plan.loadMs,
    seedConcurrency: stores === 'embedded' ? 1 : 8,
  });
  await Promise.all([big.remove(), small.remove()]);
  return { largeFiles: large, empty, scale: scaled };
}

function report(
  plan: Plan,
  loadAtStart: readonly number[],
  results: PerStores<StoresResult>,
  encryptMiBs: number,
  seconds: number,
): { markdown: string; figures: Figure[] } {
  const columns = { embedded: results.embedded !== undefined, scaleOut: results.scaleOut !== undefined };
  const section = <R>(get: (r: StoresResult) => R): PerStores<R> => ({
    embedded: results.embedded && get(results.embedded),
    scaleOut: results.scaleOut && get(results.scaleOut),
  });
  const large = largeFileFigures(section((r) => r.largeFiles));
  const empty = loadFigures(
    'empty store',
    section((r) => r.empty),
    true,
  );
  const scaled = scaleFigures(
    section((r) => r.scale),
    section((r) => r.empty),
  );
  const all = [...large, ...empty, ...scaled];
  const judged = all.filter((f) => verdictOf(f) !== undefined);
  const failed = judged.filter((f) => verdictOf(f) === 'FAIL');
  const records = plan.stores.map((s) => `${plan.records[s].toLocaleString('en')} ${s}`).join(', ');
  const markdown = [
    `# one-time benchmark: ${plan.stores.join(' vs ')}`,
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, 1-min load average ${loadAtStart[0]?.toFixed(2)} ` +
      `before, ${loadavg()[0]?.toFixed(2)} after (the machine is shared: other processes add noise); ` +
      `${plan.quick ? 'quick' : 'full'} run, ${seconds.toFixed(0)} s, ${new Date().toISOString()}. ` +
      `Targets are the issue's, judged on the embedded default; scale-out (FerretDB + Azurite here) is reported beside it without targets.`,
    `## Large files (upload, download, API memory)`,
    figuresTable(large, columns),
    `${LARGE_FILE_NOTES} Encryption alone, in-process: ${encryptMiBs.toFixed(0)} MiB/s.`,
    `## Small files: 1 KiB upload + download, ${CLIENTS} clients for ${plan.loadMs / 1000} s, purge and expiry lag measured meanwhile`,
    figuresTable(empty, columns),
    `Lags: one round trip every 50 ms is watched from the end of its download, and a prober uploads a file with a 2 s ` +
      `TTL every 100 ms, watched from its expiry; "gone" is the first poll (through the ports, every 20 ms or slower ` +
      `under load: the resolution row) that finds neither record nor blob. Purges come from the API right after a last ` +
      `download and from the expiry slots' jobs (250 ms slots); the worker's sweep (the safety net) runs every 30 s, as by default.`,
    `## Scale: the same load on a seeded store (${records} records, 1 % due), and a sweeper pass`,
    figuresTable(scaled, columns),
    `Seeded through FileRepository (createUpload + markReady per record; no blobs, so a purge's blob delete finds ` +
      `nothing). The sweeper pass is the worker's (findDue batches of 500, then a purge per id) run in the bench ` +
      `process with the processes stopped; the small store holds the same due records and as many live ones. On the ` +
      `seeded store the worker's periodic sweep is put off for an hour (so the seeded due records wait for the timed ` +
      `pass): a purge whose job failed stays until then, and its lag reads "never".` +
      (columns.scaleOut
        ? ` Scale-out stores only ${plan.records['scale-out'].toLocaleString('en')} records: FerretDB 1.24 (SQLite ` +
          `backend) filters no query through an index (string ids), so every query scans the collection and a ` +
          `million records is not measurable here; its figures grow with the records stored, which MongoDB's indexes avoid.`
        : ''),
    `## Targets: ${judged.length - failed.length} of ${judged.length} met`,
    failed.length === 0 ? 'All met.' : `Not met: ${failed.map((f) => f.label).join('; ')}.`,
  ].join('\n\n');
  return { markdown: `${markdown}\n`, figures: all };
}

async function main(): Promise<number> {
  const plan = parsePlan(process.argv.slice(2));
  const started = Date.now();
  const loadAtStart = loadavg();
  const deployments: Deployment[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      progress('cleaning up');
      for (const d of deployments) await d.remove();
    })());
  const giveUp = (why: string, code: number) => {
    progress(why);
    void cleanUp().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(() => giveUp(`over ${plan.timeoutMs / 60_000} min; giving up`, 1), plan.timeoutMs);
  process.once('SIGINT', () => giveUp('interrupted', 130));
  process.once('SIGTERM', () => giveUp('terminated', 143));
  // A stray rejection must not end the process before the clean-up has run.
  const crash = (error: unknown) =>
    giveUp(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  try {
    const results: { embedded?: StoresResult; scaleOut?: StoresResult } = {};
    for (const stores of plan.stores) {
      const result = await runStores(stores, plan, async (label, env) => {
        const deployment = await createDeployment(stores, label, env);
        deployments.push(deployment);
        return deployment;
      });
      if (stores === 'embedded') results.embedded = result;
      else results.scaleOut = result;
    }
    const encryptMiBs = await encryptionOnlyMiBs(plan.quick ? 64 : 256);
    const seconds = (Date.now() - started) / 1000;
    const { markdown, figures } = report(plan, loadAtStart, results, encryptMiBs, seconds);
    process.stdout.write(markdown);
    const targets = figures
      .filter((f) => f.target && f.embedded)
      .map((f) => ({
        figure: f.label,
        target: f.target,
        embedded: f.embedded?.value,
        met: meets(f.embedded?.value ?? Number.NaN, f.target!),
      }));
    const raw = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: { before: loadAtStart, after: loadavg() },
      mode: plan.quick ? 'quick' : 'full',
      seconds,
      plan,
      encryptionOnlyMiBs: encryptMiBs,
      targets,
      results,
    };
    writeFileSync(
      RESULTS_FILE,
      `${JSON.stringify(raw, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value), 2)}\n`,
    );
    progress(`raw figures in ${RESULTS_FILE}`);
    const allEqual = Object.values(results).every((r) => r.largeFiles.allEqual);
    return allEqual ? 0 : 1;
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
