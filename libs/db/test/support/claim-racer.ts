/**
 * A child process for the cross-process claim test: opens the shared database file, says `ready`, waits for
 * `go <epoch ms>`, spins until that moment (so all racers start together), makes its claims back to back and
 * prints `{"won":[downloads left after each claim it won]}`.
 *
 * Usage: node claim-racer.ts <database file> <file id> <claims>
 */
import { createInterface } from 'node:readline';
import { SqliteFileRepository } from '@one-time/db/sqlite';

const [path, id, claims] = process.argv.slice(2);
if (!path || !id || !claims) throw new Error('usage: claim-racer.ts <database file> <file id> <claims>');

const repo = new SqliteFileRepository({ path, busyTimeoutMs: 30_000 });
// Warm up before the start (statement prepared, code compiled), so the race measures claims, not start-up.
await repo.claim(`not-${id}`, new Date(), new Date());
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');

for await (const line of lines) {
  const [command, startAt] = line.split(' ');
  if (command !== 'go') continue;
  while (Date.now() < Number(startAt)) {
    // spin: a timer would wake each racer at a slightly different moment
  }
  const won: number[] = [];
  const leaseUntil = new Date(Date.now() + 60_000);
  for (let i = 0; i < Number(claims); i += 1) {
    const claim = await repo.claim(id, new Date(), leaseUntil);
    if (claim) won.push(claim.file.downloadsLeft);
  }
  await repo.close();
  process.stdout.write(`${JSON.stringify({ won })}\n`);
  lines.close();
}
