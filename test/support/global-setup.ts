import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Marks every process a test run starts (children inherit the environment, and tests that build a child's
 * environment themselves copy the mark), so that at the end any one still running is found: a test run leaves
 * no process behind. Those found are killed and the run fails, naming them.
 */
export const RUN_MARK = 'ONE_TIME_TEST_RUN';

export function setup(): void {
  process.env[RUN_MARK] = randomBytes(6).toString('hex');
}

export function teardown(): void {
  const mark = `${RUN_MARK}=${process.env[RUN_MARK]}`;
  const left: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    const read = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'latin1');
    let environ: string;
    let command: string;
    try {
      environ = read('environ');
      command = read('cmdline').replaceAll('\0', ' ').trim();
    } catch {
      continue; // gone meanwhile, or a zombie already
    }
    if (!environ.split('\0').includes(mark) || command.includes('vitest') || command === '') continue;
    left.push(`${pid}: ${command}`);
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // it exited by itself
    }
  }
  if (left.length > 0) throw new Error(`the test run left ${left.length} process(es) behind (killed now):\n${left.join('\n')}`);
}
