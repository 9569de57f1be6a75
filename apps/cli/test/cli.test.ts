import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cuttingProxy } from '../../../test/support/cutting-proxy.ts';
import { eventually, startStack, type Stack } from '../../../test/support/stack.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let stack: Stack;
let folder: string;

beforeAll(async () => {
  stack = await startStack();
  folder = await mkdtemp(join(tmpdir(), 'one-time-cli-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(folder, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', ONE_TIME_URL: stack.url, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('one-time CLI, run as a child process', () => {
  it('sends a file, shows its info, gets it once, then fails on the second get', async () => {
    const data = randomBytes(512 * 1024);
    await writeFile(join(folder, 'photo.bin'), data);
    const sent = await cli(['send', 'photo.bin', '--no-e2e', '--ttl', '1h', '--downloads', '1', '--json']);
    expect(sent.code).toBe(0);
    const answer = JSON.parse(sent.stdout) as { url: string; code: string };

    const shown = await cli(['info', answer.url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('photo.bin');
    expect(shown.stdout).toContain('1 download(s) left');

    const got = await cli(['get', '-o', 'copy.bin', '--', answer.code]);
    expect(got.code).toBe(0);
    expect((await readFile(join(folder, 'copy.bin'))).equals(data)).toBe(true);

    const again = await cli(['get', '-o', 'again.bin', '--', answer.code]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/^one-time: .*\(NOT_FOUND\)$/m);
    expect(await readdir(folder)).not.toContain('again.bin.part');
  });

  it('gets a file across two forced disconnects without any help, resuming where each one broke', async () => {
    const data = randomBytes(32 * 1024 * 1024); // larger than the socket buffers: the cuts land mid-file
    await writeFile(join(folder, 'big.bin'), data);
    const sent = await cli(['send', 'big.bin', '--no-e2e', '--json']);
    const { code } = JSON.parse(sent.stdout) as { code: string };
    const proxy = await cuttingProxy(stack.url, 2, 5 * 1024 * 1024);
    try {
      const got = await cli(['get', '-o', 'resumed.bin', '--', code], { ONE_TIME_URL: proxy.url });
      expect(got.stderr).toMatch(
        /connection lost; resuming at byte \d+ \(attempt 1\)\n.*connection lost; resuming at byte \d+ \(attempt 2\)/s,
      );
      expect(got.code).toBe(0);
      expect(proxy.cuts()).toBe(2);
      expect((await readFile(join(folder, 'resumed.bin'))).equals(data)).toBe(true);
      expect(await readdir(folder)).not.toContain('resumed.bin.part');
      // One download, taken once and finished: the file is gone.
      expect(await eventually(async () => (await cli(['info', '--', code])).code === 1)).toBe(true);
      expect((await cli(['get', '-o', 'twice.bin', '--', code])).code).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('never overwrites a file without --force: name (1).ext, name (2).ext, …', async () => {
    await writeFile(join(folder, 'x.txt'), 'mine');
    const sent = await cli(['send', 'x.txt', '--no-e2e', '--downloads', '3', '--json']);
    const { code } = JSON.parse(sent.stdout) as { code: string };
    // x.txt is the file just sent: it exists, so the download takes the next free name.
    await writeFile(join(folder, 'x.txt'), 'changed since');
    expect(await cli(['get', '--', code])).toMatchObject({ code: 0, stdout: 'saved x (1).txt (4 bytes)\n' });
    expect(await cli(['get', '--', code])).toMatchObject({ code: 0, stdout: 'saved x (2).txt (4 bytes)\n' });
    expect(await readFile(join(folder, 'x.txt'), 'utf8')).toBe('changed since');
    expect(await readFile(join(folder, 'x (2).txt'), 'utf8')).toBe('mine');
    expect(await cli(['get', '--force', '--', code])).toMatchObject({ code: 0, stdout: 'saved x.txt (4 bytes)\n' });
    expect(await readFile(join(folder, 'x.txt'), 'utf8')).toBe('mine');
    expect((await readdir(folder)).filter((name) => name.startsWith('x')).sort()).toEqual(['x (1).txt', 'x (2).txt', 'x.txt']);
  });

  it('prints the link as plain text and revokes with the token', async () => {
    await writeFile(join(folder, 'note.txt'), 'hello');
    const sent = await cli(['send', 'note.txt', '--no-e2e', '--server', stack.url], { ONE_TIME_URL: 'http://127.0.0.1:9' });
    expect(sent.code).toBe(0);
    const [link = '', direct = '', details = ''] = sent.stdout.trim().split('\n');
    // The link to share opens the landing page; the direct one is for curl.
    expect(link).toMatch(/\/d\/[A-Za-z0-9_-]{22}$/);
    expect(direct).toBe(`direct download (curl): ${link.replace('/d/', '/download/')}`);
    const token = /revoke with: one-time revoke -- \S+ (\S+)/.exec(details)?.[1] ?? '';
    // `--` ends the options: codes and tokens may start with "-".
    const revoked = await cli(['revoke', '--', link, token]);
    expect(revoked).toMatchObject({ code: 0, stdout: 'revoked\n' });
  });

  it('exits non-zero with one line for a bad code and for an unreachable server', async () => {
    const bad = await cli(['info', 'not-a-code']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^one-time: .*\(INVALID_CODE\)\n$/);

    const down = await cli(['get', 'AAAAAAAAAAAAAAAAAAAAAA'], { ONE_TIME_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^one-time: Cannot reach http:\/\/127\.0\.0\.1:9.*\(NETWORK\)\n$/);

    const usage = await cli(['frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown command');
    expect(usage.stderr).toContain('[--force]');
  });
});
