import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function start(entry: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [entry], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: '0', OPS_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe.each([
  ['api', 'apps/api/src/main.ts'],
  ['worker', 'apps/worker/src/main.ts'],
])('%s start-up', (_name, entry) => {
  it('stops with a message naming each bad variable', () => {
    const result = start(entry, { PORT: 'eighty', TTL_MAX: 'forever', REDIS_URL: 'http://nope' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('TTL_MAX');
    expect(result.stderr).toContain('REDIS_URL');
  });

  it.each([
    ['does not exist', () => join(tmpdir(), 'one-time-no-such-folder', 'store'), /DATA_DIR: \S+ does not exist/],
    ['is a file', () => fileIn(mkdtempSync(join(tmpdir(), 'one-time-')), 'a-file'), /DATA_DIR: \S+ is not a folder/],
    ['is not writable', () => '/proc/self', /DATA_DIR: \/proc\/self is not writable/],
  ])('refuses to start when DATA_DIR %s, naming it', (_what, dataDir, message) => {
    const result = start(entry, { DATA_DIR: dataDir() });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('refuses to start on a corrupt database file, naming it, without hanging', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'one-time-'));
    fileIn(dataDir, 'metadata.sqlite', 'this is not a database '.repeat(400));
    const started = Date.now();
    const result = start(entry, { DATA_DIR: dataDir });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(join(dataDir, 'metadata.sqlite'));
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

function fileIn(folder: string, name: string, content = 'x'): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}
