/** What every benchmark section shares: loopback HTTP, child processes, memory, statistics, tables and targets. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SERVER_ENV, serverCommand } from '../scripts/server-command.ts';

export const MiB = 1024 * 1024;
export const SAMPLE_MS = 50;
const STALL_TIMEOUT_MS = 60_000; // a request whose socket sees no traffic for this long fails
const START_TIMEOUT_MS = 30_000;
export const REPO = fileURLToPath(new URL('..', import.meta.url));

export const mib = (bytes: number): number => bytes / MiB;

export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export interface Timed<T> {
  readonly value: T;
  readonly seconds: number;
}

export async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

// --------------------------------------------------------------------------------------------------- http ---

/** Sends a request (streaming `body`, if any) to 127.0.0.1 and resolves once the response headers arrive. */
export function send(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body?: Readable | Buffer,
): Promise<IncomingMessage> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to send to ${url}: loopback only`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: STALL_TIMEOUT_MS });
    req.once('timeout', () => req.destroy(new Error(`${method} ${url}: no traffic for ${STALL_TIMEOUT_MS / 1000}s`)));
    req.once('error', reject);
    req.once('response', resolve);
    if (body instanceof Buffer) req.end(body);
    else if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

export async function readBody(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

export async function readText(res: IncomingMessage): Promise<string> {
  return (await readBody(res)).toString('utf8');
}

// ------------------------------------------------------------------------------------------------ processes ---

export type Service = ChildProcessByStdio<null, Readable, null> & { readonly pid: number };

/** The bundled app, run exactly as scripts/start.sh runs it (scripts/server-command.ts), with `env` as its configuration. */
export function spawnService(app: 'api' | 'worker', env: NodeJS.ProcessEnv): Service {
  const child = spawn(process.execPath, serverCommand(app), {
    cwd: REPO,
    env: { ...SERVER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.pid === undefined) throw new Error(`could not start the ${app} process`);
  return child as Service;
}

/** Resolves once a process prints a line matching `ready` (its output goes on to stderr, away from the tables). */
export function printed(service: Service, ready: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${String(ready)} within ${START_TIMEOUT_MS / 1000}s`)), START_TIMEOUT_MS);
    service.stdout.on('data', (data: Buffer) => {
      process.stderr.write(data);
      seen += data.toString('utf8');
      const match = ready.exec(seen);
      if (match) {
        clearTimeout(timer);
        seen = '';
        resolve(match);
      }
    });
    service.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the process exited (${code ?? signal}) before it was ready`));
    });
  });
}

/** SIGTERM (a graceful stop, which also lets `--cpu-prof` write its profile), SIGKILL after 15 s. */
export async function stopService(service: Service): Promise<void> {
  if (service.exitCode !== null || service.signalCode !== null) return;
  const exited = once(service, 'exit');
  service.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(15_000, false, { ref: false })]);
  if (!stopped) {
    progress(`pid ${service.pid} ignored SIGTERM for 15 s; sending SIGKILL`);
    service.kill('SIGKILL');
    await exited;
  }
}

/** VmRSS and VmHWM (lifetime high-water mark) of a process, in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Runs `work` while sampling the process's VmRSS every SAMPLE_MS; returns its result and the peak seen. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; peakRss: number }> {
  let peakRss = memory(pid).rss;
  const sample = () => {
    try {
      peakRss = Math.max(peakRss, memory(pid).rss);
    } catch {
      // the process is gone: `work` fails and says so
    }
  };
  const timer = setInterval(sample, SAMPLE_MS);
  try {
    const value = await work();
    sample();
    return { value, peakRss };
  } finally {
    clearInterval(timer);
  }
}

const CLOCK_TICKS = 100; // USER_HZ: /proc counts CPU time in 1/100 s on Linux

/** CPU time (user + system, every thread) a process has used so far, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Busy and total CPU time of the whole machine (all cores), in ticks. */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, n) => sum + (Number.isFinite(n) ? n : 0), 0);
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

export interface CpuUse {
  /** CPU seconds each named process used over the interval. */
  readonly seconds: Record<string, number>;
  /** How busy the whole machine was (all processes, every core), 0–100 %. */
  readonly machineBusyPercent: number;
}

/** Starts counting the CPU time of `pids` (by name) and of the machine; the returned function stops it. */
export function cpuMeter(pids: Record<string, number>): () => CpuUse {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const machine = machineTicks();
  return () => {
    const after = machineTicks();
    const seconds = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) - (before[name] ?? 0)]));
    return { seconds, machineBusyPercent: (100 * (after.busy - machine.busy)) / Math.max(1, after.total - machine.total) };
  };
}

// ------------------------------------------------------------------------------------------------ figures ---

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The p-th percentile (0–100), nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/** Runs `work` for each item with at most `limit` in flight. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

// ------------------------------------------------------------------------------------------------- tables ---

/** A goal from the issue: `value op bound`, judged on the embedded (default) configuration only. */
export interface Target {
  readonly op: '≥' | '≤' | '<' | '=';
  readonly bound: number;
  /** How the bound reads in the table, e.g. "≥ 800" or "≥ 0.8 × empty". */
  readonly text?: string;
}

export function meets(value: number, target: Target): boolean {
  if (!Number.isFinite(value)) return false;
  switch (target.op) {
    case '≥':
      return value >= target.bound;
    case '≤':
      return value <= target.bound;
    case '<':
      return value < target.bound;
    case '=':
      return value === target.bound;
  }
}

export type Verdict = 'PASS' | 'FAIL';

/** One figure measured on each configuration; `value` is what a target is judged on, `shown` what is printed. */
export interface Cell {
  readonly value: number;
  readonly shown: string;
}

export interface Figure {
  readonly label: string;
  readonly target?: Target;
  readonly embedded?: Cell;
  readonly scaleOut?: Cell;
}

/** A section's results for each configuration that ran. */
export interface PerStores<R> {
  readonly embedded?: R | undefined;
  readonly scaleOut?: R | undefined;
}

/** One row: `get` applied to each configuration's results (undefined: not measured there). */
export function figure<R>(label: string, results: PerStores<R>, get: (r: R) => Cell | undefined, target?: Target): Figure {
  return {
    label,
    target,
    embedded: results.embedded && get(results.embedded),
    scaleOut: results.scaleOut && get(results.scaleOut),
  };
}

export function cell(value: number, digits = 1, unit = ''): Cell {
  return { value, shown: Number.isFinite(value) ? `${value.toFixed(digits)}${unit}` : String(value) };
}

/** Milliseconds, whole from 100 up; infinite reads as "never". */
export function msCell(value: number): Cell {
  if (value === Number.POSITIVE_INFINITY) return { value, shown: 'never' };
  return cell(value, value >= 100 ? 0 : 1, ' ms');
}

export function textCell(shown: string, value = Number.NaN): Cell {
  return { value, shown };
}

export function verdictOf(figure: Figure): Verdict | undefined {
  if (!figure.target || !figure.embedded) return undefined;
  return meets(figure.embedded.value, figure.target) ? 'PASS' : 'FAIL';
}

/** Figures side by side: target, embedded (with its verdict), scale-out (no targets there). */
export function figuresTable(figures: readonly Figure[], columns: { embedded: boolean; scaleOut: boolean }): string {
  const header = ['figure'];
  if (columns.embedded) header.push('target (embedded)', 'embedded', 'verdict');
  if (columns.scaleOut) header.push('scale-out');
  const rows = figures
    .filter((f) => (columns.embedded && f.embedded) || (columns.scaleOut && f.scaleOut))
    .map((f) => {
      const row = [f.label];
      if (columns.embedded) {
        const target = f.target ? (f.target.text ?? `${f.target.op} ${f.target.bound}`) : '';
        row.push(target, f.embedded?.shown ?? '—', verdictOf(f) ?? '');
      }
      if (columns.scaleOut) row.push(f.scaleOut?.shown ?? '—');
      return row;
    });
  return markdownTable(header, rows);
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
