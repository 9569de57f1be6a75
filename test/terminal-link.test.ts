import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson } from './support/http.ts';
import { startStack, type Stack } from './support/stack.ts';

const run = promisify(execFile);
let stack: Stack;
let folder: string;
beforeAll(async () => {
  stack = await startStack({ worker: false });
  folder = await mkdtemp(join(tmpdir(), 'one-time-curl-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(folder, { recursive: true, force: true });
});

/** Real curl, in a folder of its own; returns its exit code, what it said, and the files it left. */
async function curl(...args: string[]): Promise<{ exit: number; stdout: string; files: string[] }> {
  const result = await run('curl', ['-s', ...args], { cwd: folder }).then(
    ({ stdout }) => ({ exit: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ exit: error.code, stdout: error.stdout }),
  );
  return { ...result, files: await readdir(folder) };
}

describe('a share link opened from a terminal', () => {
  it('makes `curl -fOJ <share link>` fail and save nothing, consumes nothing, names nothing', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'quarterly-report.txt', content: 'the numbers' }]);
    const shared = await curl('-fOJ', answer.url);
    expect(shared.exit).toBe(22); // curl: "HTTP page not retrieved" (-f on a 4xx)
    expect(shared.files).toEqual([]);

    const told = await curl(answer.url);
    expect(told.stdout).toContain(`curl -fOJ ${answer.downloadUrl}`);
    expect(told.stdout).not.toContain('quarterly-report');

    // The command it gives works, once.
    const direct = await curl('-fOJ', answer.downloadUrl);
    expect(direct.exit).toBe(0);
    expect(direct.files).toEqual(['quarterly-report.txt']);
    expect(await readFile(join(folder, 'quarterly-report.txt'), 'utf8')).toBe('the numbers');
    expect((await curl('-fOJ', answer.downloadUrl)).exit).toBe(22);
  });

  it('shows the direct command in the page for readers without JavaScript', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'n.txt', content: 'n' }]);
    const html = await (await fetch(answer.url, { headers: { accept: 'text/html' } })).text();
    expect(html).toMatch(new RegExp(`<noscript>[\\s\\S]*curl -fOJ ${answer.downloadUrl}[\\s\\S]*</noscript>`));
  });
});
