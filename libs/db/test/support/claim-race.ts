import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RACER = fileURLToPath(new URL('./claim-racer.ts', import.meta.url));
/** Time from `go` to the common start, enough for every racer to read its line and begin spinning. */
const START_DELAY_MS = 300;

interface Racer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
  readonly stderr: string[];
  /** Settles once the process exited and its output streams closed. */
  readonly closed: Promise<unknown>;
}

/**
 * Starts `processes` racers on the same database file, lets them claim `claimsEach` downloads of `id` at
 * the same moment, and returns what each one won (downloads left after each of its winning claims).
 */
export async function raceClaimsAcrossProcesses(
  path: string,
  id: string,
  processes: number,
  claimsEach: number,
): Promise<number[][]> {
  const racers = Array.from({ length: processes }, () => startRacer(path, id, claimsEach));
  try {
    for (const racer of racers) await expectLine(racer, 'ready');
    const startAt = Date.now() + START_DELAY_MS;
    for (const racer of racers) racer.child.stdin.write(`go ${startAt}\n`);
    return await Promise.all(racers.map(async (racer) => parseWon(await nextLine(racer), racer)));
  } finally {
    for (const racer of racers) racer.child.kill();
  }
}

function startRacer(path: string, id: string, claims: number): Racer {
  const child = spawn(process.execPath, [RACER, path, id, String(claims)], { stdio: 'pipe' });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const closed = once(child, 'close').catch(() => undefined); // a spawn error also ends stdout: see nextLine
  const lines: Interface = createInterface({ input: child.stdout });
  return { child, lines: lines[Symbol.asyncIterator](), stderr, closed };
}

async function nextLine(racer: Racer): Promise<string> {
  const next = await racer.lines.next();
  if (next.done) {
    await racer.closed; // all of stderr, for the message
    throw new Error(`a claim racer ended without answering: ${racer.stderr.join('')}`);
  }
  return next.value;
}

async function expectLine(racer: Racer, expected: string): Promise<void> {
  const line = await nextLine(racer);
  if (line !== expected) throw new Error(`a claim racer said "${line}" instead of "${expected}"`);
}

function parseWon(line: string, racer: Racer): number[] {
  const parsed = JSON.parse(line) as { won?: unknown };
  if (!Array.isArray(parsed.won) || !parsed.won.every((value) => typeof value === 'number')) {
    throw new Error(`a claim racer answered "${line}"; stderr: ${racer.stderr.join('')}`);
  }
  return parsed.won;
}
