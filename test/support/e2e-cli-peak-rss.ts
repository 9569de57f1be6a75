/**
 * Preloaded into a CLI process (`node --import …`): on exit, writes the process's peak resident set size
 * (VmHWM, in bytes) to the file named by ONE_TIME_PEAK_RSS_FILE. Read at exit, so nothing is missed between
 * samples.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const target = process.env.ONE_TIME_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) writeFileSync(target, String(Number(kib) * 1024));
  });
}
