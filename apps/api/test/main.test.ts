import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe.each([
  ['api', 'apps/api/src/main.ts'],
  ['worker', 'apps/worker/src/main.ts'],
])('%s start-up', (_name, entry) => {
  it('stops with a message naming each bad variable', () => {
    const result = spawnSync(process.execPath, [entry], {
      cwd: root,
      env: { PATH: process.env.PATH, PORT: 'eighty', TTL_MAX: 'forever', REDIS_URL: 'http://nope' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('TTL_MAX');
    expect(result.stderr).toContain('REDIS_URL');
  });
});
