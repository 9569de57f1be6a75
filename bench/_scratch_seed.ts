import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFileRepository } from '@one-time/db/sqlite';
const dir = mkdtempSync(join(tmpdir(), 'seed-'));
const repo = new SqliteFileRepository({ path: join(dir, 'm.sqlite') });
await repo.init();
const N = Number(process.argv[2] ?? 100000);
const t0 = performance.now();
const now = Date.now();
for (let i = 0; i < N; i++) {
  const id = randomBytes(32).toString('base64url');
  await repo.createUpload({ id, deleteTokenHash: randomBytes(32).toString('base64url'), createdAt: new Date(now), deadline: new Date(now + 3600e3) });

  await repo.markReady(id, { size: 1024, parts: [{ blob: `${id}/0`, size: 1024, meta: randomBytes(90).toString('base64url') }], expiresAt: new Date(now + 86400e3 + i), downloadsLeft: 1 });
}
const s = (performance.now() - t0) / 1000;
console.log(N, 'records', s.toFixed(1), 's', (N / s).toFixed(0), '/s');
await repo.close();
rmSync(dir, { recursive: true });
