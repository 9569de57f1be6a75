import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { testRunMark } from './run-mark.ts';

const main = fileURLToPath(new URL('../../apps/cli/src/main.ts', import.meta.url));
const peakRss = fileURLToPath(new URL('./e2e-cli-peak-rss.ts', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** VmHWM at exit, in bytes (undefined if the process died before it could tell). */
  readonly peakRss: number | undefined;
  readonly seconds: number;
}

/** Runs `one-time …` as a child process in `cwd`, as a user would, and reports its peak memory. */
export async function runCli(cwd: string, args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const rssFile = join(cwd, `.rss-${randomBytes(6).toString('hex')}`);
  const started = performance.now();
  const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', peakRss, main, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...testRunMark(), ONE_TIME_PEAK_RSS_FILE: rssFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = await readFile(rssFile, 'utf8').catch(() => undefined);
  await rm(rssFile, { force: true });
  return { ...outcome, peakRss: rss === undefined ? undefined : Number(rss), seconds };
}

/**
 * Writes `size` bytes of pseudo-random content to `path`, a megabyte at a time (never whole in memory), with
 * `marker` at the start of every MiB (so a leak of any part of the file shows). Returns its SHA-256.
 */
export async function writeMarkedFile(path: string, size: number, marker: string): Promise<string> {
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  let written = 0;
  let counter = 0n;
  while (written < size) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - written)));
    const stamp = Buffer.from(`${marker}:${counter++}:`);
    stamp.copy(chunk, 0, 0, Math.min(stamp.length, chunk.length));
    hash.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return hash.digest('hex');
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
