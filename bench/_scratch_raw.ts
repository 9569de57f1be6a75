import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteFileRepository } from '@one-time/db/sqlite';
const dir = mkdtempSync(join(tmpdir(), 'seed-'));
const path = join(dir, 'm.sqlite');
const repo = new SqliteFileRepository({ path });
await repo.init();
await repo.close();
const db = new DatabaseSync(path);
db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON');
const ins = db.prepare(`INSERT INTO files (id, state, parts, size, created_at, expires_at, downloads_left, active_streams, lease_until, delete_token_hash) VALUES (?, 'uploading', '[]', 0, ?, ?, 0, 0, NULL, ?)`);
const rdy = db.prepare(`UPDATE files SET state='ready', size=?, parts=?, expires_at=?, downloads_left=? WHERE id=? AND state='uploading'`);
const N = Number(process.argv[2] ?? 200000);
const tx = process.argv[3] === 'tx';
const now = Date.now();
const t0 = performance.now();
if (tx) db.exec('BEGIN');
for (let i = 0; i < N; i++) {
  const id = randomBytes(32).toString('base64url');
  ins.run(id, now, now + 3600e3, randomBytes(32).toString('base64url'));
  rdy.run(1024, JSON.stringify([{ blob: `${id}/0`, size: 1024, meta: randomBytes(90).toString('base64url') }]), now + 86400e3 + i, 1, id);
  if (tx && i % 10000 === 9999) { db.exec('COMMIT'); db.exec('BEGIN'); }
}
if (tx) db.exec('COMMIT');
const s = (performance.now() - t0) / 1000;
console.log(N, tx ? 'tx' : 'autocommit', s.toFixed(1), 's', (N / s).toFixed(0), '/s');
db.close();
rmSync(dir, { recursive: true });
