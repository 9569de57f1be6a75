import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * `one-time get` against a server that tries to choose where the file goes. The sandbox holds a folder
 * the escapes would reach (`etc/`), an outside file to overwrite through a symlink, and the working folder
 * two levels down; everything outside the working folder must stay exactly as it was.
 */
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let sandbox: string;
let work: string;
let server: Server;
let serverUrl: string;
let before: string[];

/** `/download/<case>`: each case answers with its own Content-Disposition (or misbehaves). */
const headers: Record<string, string | undefined> = {
  traversal: `attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`,
  quoted: `attachment; filename="../../x"`,
  backslashes: `attachment; filename="..\\\\..\\\\etc\\\\win.ini"`,
  dots: `attachment; filename*=UTF-8''%2e%2e`,
  onlyDots: `attachment; filename="....."`,
  hidden: `attachment; filename*=UTF-8''.bashrc`,
  control: `attachment; filename*=UTF-8''a%0Ab%1B%5B2Jc%7F%C2%9B%00.txt`,
  latin1Control: 'attachment; filename="c1\x85\x9b.txt"',
  long: `attachment; filename*=UTF-8''${'n'.repeat(1000)}.txt`,
  badPercent: `attachment; filename="plain.txt"; filename*=UTF-8''%E0%A4%A`,
  badPercentOnly: `attachment; filename*=UTF-8''%zz%`,
  device: `attachment; filename="CON.txt"`,
  none: undefined,
  x: `attachment; filename="x.txt"`,
};

function respond(code: string, response: ServerResponse): void {
  if (code.startsWith('file.info?')) {
    // The client asks first whether a file is end-to-end encrypted (it never is here).
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: { data: { e2e: null } } }));
    return;
  }
  if (code === 'cut') {
    // Promises 1,000 bytes, sends 10, hangs up.
    response.writeHead(200, { 'content-disposition': 'attachment; filename="cut.bin"', 'content-length': '1000' });
    response.write('0123456789', () => response.destroy());
    return;
  }
  if (code === 'stall') {
    response.writeHead(200, { 'content-disposition': 'attachment; filename="stall.bin"', 'content-length': '1000' });
    response.write('0123456789');
    return; // never ends: the test interrupts the CLI
  }
  const disposition = headers[code];
  response.writeHead(200, disposition === undefined ? {} : { 'content-disposition': disposition });
  response.end(`body of ${code}`);
}

beforeAll(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'one-time-hostile-'));
  work = join(sandbox, 'outer', 'work');
  await mkdir(work, { recursive: true });
  await mkdir(join(sandbox, 'etc'));
  await writeFile(join(sandbox, 'outside.txt'), 'not yours');
  server = createServer((request, response) => respond(decodeURIComponent(request.url?.split('/').pop() ?? ''), response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  before = await outsideWork();
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(sandbox, { recursive: true, force: true });
});
beforeEach(async () => {
  await rm(work, { recursive: true, force: true });
  await mkdir(work);
});

/** Every path in the sandbox outside the working folder, with the content of files. */
async function outsideWork(): Promise<string[]> {
  const entries = await readdir(sandbox, { recursive: true, withFileTypes: true });
  const listing: string[] = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    if (path === work || path.startsWith(`${work}/`)) continue;
    listing.push(entry.isFile() ? `${path}: ${await readFile(path, 'utf8')}` : path);
  }
  return listing.sort();
}

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', ONE_TIME_URL: serverUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
const cli = (args: string[]) => start(args).done;

describe('one-time get with a hostile server', () => {
  it.each([
    ['traversal', 'passwd'],
    ['quoted', 'x'],
    ['backslashes', 'win.ini'],
    ['dots', 'download'],
    ['onlyDots', 'download'],
    ['hidden', 'bashrc'],
    ['control', 'a_b_[2Jc___.txt'],
    ['latin1Control', 'c1__.txt'],
    ['long', `${'n'.repeat(196)}.txt`],
    ['badPercent', 'plain.txt'],
    ['badPercentOnly', 'download'],
    ['device', '_CON.txt'],
    ['none', 'download'],
  ])('%s: saved inside the folder as %j, nothing outside touched', async (code, name) => {
    const result = await cli(['get', code]);
    expect(await outsideWork()).toEqual(before);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`saved ${name} (${`body of ${code}`.length} bytes)\n`);
    expect(await readdir(work)).toEqual([name]);
    expect(await readFile(join(work, name), 'utf8')).toBe(`body of ${code}`);
  });

  it('keeps an absolute name inside the folder too', async () => {
    headers.absolute = `attachment; filename*=UTF-8''${encodeURIComponent(join(sandbox, 'etc', 'abs.txt'))}`;
    expect(await cli(['get', 'absolute'])).toMatchObject({ code: 0, stdout: 'saved abs.txt (16 bytes)\n' });
    expect(await readdir(work)).toEqual(['abs.txt']);
    expect(await outsideWork()).toEqual(before);
  });

  it('never overwrites without --force: x.txt, then x (1).txt, x (2).txt; --force replaces', async () => {
    await writeFile(join(work, 'x.txt'), 'mine');
    expect((await cli(['get', 'x'])).stdout).toBe('saved x (1).txt (9 bytes)\n');
    expect((await cli(['get', 'x'])).stdout).toBe('saved x (2).txt (9 bytes)\n');
    expect(await readFile(join(work, 'x.txt'), 'utf8')).toBe('mine');
    expect((await cli(['get', 'x', '--force'])).stdout).toBe('saved x.txt (9 bytes)\n');
    expect(await readFile(join(work, 'x.txt'), 'utf8')).toBe('body of x');
    expect((await readdir(work)).sort()).toEqual(['x (1).txt', 'x (2).txt', 'x.txt']);
    expect(await outsideWork()).toEqual(before);
  });

  it('does not write through a planted symlink, for the file or its .part', async () => {
    await symlink(join(sandbox, 'outside.txt'), join(work, 'x.txt'));
    await symlink(join(sandbox, 'outside.txt'), join(work, 'x.txt.part'));
    expect((await cli(['get', 'x'])).stdout).toBe('saved x (1).txt (9 bytes)\n');
    expect((await readdir(work)).sort()).toEqual(['x (1).txt', 'x.txt', 'x.txt.part']);
    // --force replaces the link itself, never the file it points to.
    expect((await cli(['get', 'x', '-f'])).stdout).toBe('saved x.txt (9 bytes)\n');
    expect(await readFile(join(work, 'x.txt'), 'utf8')).toBe('body of x');
    expect(await outsideWork()).toEqual(before);
  });

  it('leaves a stranger’s .part file alone and cleans up its own', async () => {
    await writeFile(join(work, 'x.txt.part'), 'someone else’s download');
    expect((await cli(['get', 'x'])).stdout).toBe('saved x.txt (9 bytes)\n');
    expect((await readdir(work)).sort()).toEqual(['x.txt', 'x.txt.part']);
    expect(await readFile(join(work, 'x.txt.part'), 'utf8')).toBe('someone else’s download');
  });

  it('-o folder takes the safe name; -o file is the user’s choice, also never overwritten', async () => {
    const chosen = join(sandbox, 'outer', 'chosen');
    await mkdir(chosen);
    try {
      expect((await cli(['get', 'traversal', '-o', '../chosen'])).stdout).toBe(
        `saved ${join('..', 'chosen', 'passwd')} (17 bytes)\n`,
      );
      expect(await readdir(chosen)).toEqual(['passwd']);
      expect((await cli(['get', 'traversal', '-o', '../chosen/mine.txt'])).stdout).toContain('saved ../chosen/mine.txt');
      expect((await cli(['get', 'traversal', '-o', '../chosen/mine.txt'])).stdout).toContain('saved ../chosen/mine (1).txt');
      expect((await readdir(chosen)).sort()).toEqual(['mine (1).txt', 'mine.txt', 'passwd']);
      expect(await readdir(work)).toEqual([]);
    } finally {
      await rm(chosen, { recursive: true });
    }
    expect(await outsideWork()).toEqual(before);
  });

  it('removes the .part file when the connection drops', async () => {
    const result = await cli(['get', 'cut']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^one-time: .+\n$/);
    expect(await readdir(work)).toEqual([]);
  });

  it('removes the .part file when interrupted', async () => {
    const { child, done } = start(['get', 'stall']);
    await expect.poll(() => readdir(work), { timeout: 10_000 }).toEqual(['stall.bin.part']);
    child.kill('SIGINT');
    const result = await done;
    expect(result).toMatchObject({ code: 1, stderr: 'one-time: interrupted\n' });
    expect(await readdir(work)).toEqual([]);
  });
});
