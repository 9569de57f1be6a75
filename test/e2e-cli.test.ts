import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, stop } from 'esbuild';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from '@one-time/client';
import { encryptedSize, generateKey, keyToFragment } from '@one-time/e2e';
import { launchChromium } from './support/browser.ts';
import { chunkCuttingProxy } from './support/e2e-cli-chunk-proxy.ts';
import { runCli, sha256Of, writeMarkedFile, type CliResult } from './support/e2e-cli-run.ts';
import { redisDump } from './support/redis-dump.ts';
import { scanFolders, secretsIn } from './support/secret-scan.ts';
import { startStack, type Stack } from './support/stack.ts';

/**
 * `one-time send` / `one-time get` end to end, as real processes against a real API and worker: the file is
 * encrypted in the sending CLI and decrypted in the receiving one; the server only ever holds ciphertext.
 */
const MiB = 1024 * 1024;
let stack: Stack;
let folder: string;
const logs: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logs.push(chunk.toString('utf8'));
    done();
  },
});

beforeAll(async () => {
  // Logs at `debug`: the most the server could ever write about a file.
  stack = await startStack({ env: { LOG_LEVEL: 'debug' }, logDestination: capture });
  folder = await mkdtemp(join(tmpdir(), 'one-time-e2e-cli-'));
});
afterAll(async () => {
  await stack?.stop();
  await rm(folder, { recursive: true, force: true });
});

/** A fresh empty folder: a sender's or a receiver's working folder. */
async function freshFolder(name: string): Promise<string> {
  const path = join(folder, `${name}-${randomBytes(4).toString('hex')}`);
  await mkdir(path);
  return path;
}

const cli = (cwd: string, args: readonly string[], server: string = stack.url): Promise<CliResult> =>
  runCli(cwd, args, { ONE_TIME_URL: server });

/** The lines `send` prints: the link (with the key after `#`), a note, then expiry and how to revoke. */
function linkOf(sent: CliResult): { link: string; code: string; key: string } {
  expect(sent).toMatchObject({ code: 0, stderr: '' });
  const [link = ''] = sent.stdout.trim().split('\n');
  expect(link).toMatch(/^http:\/\/\S+\/d\/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{22}$/);
  return { link, code: codeOf(link), key: link.split('#')[1] ?? '' };
}

/** Where the secrets are found on the server's side: its stores (files, or blobs and records), Redis, its logs. */
async function serverSideFindings(secrets: Record<string, string>): Promise<{ found: string[]; bytes: number }> {
  const found: string[] = [];
  let bytes = 0;
  if (stack.stores === 'embedded' && stack.config.dataDir) {
    const scan = await scanFolders([stack.config.dataDir.path], secrets);
    found.push(...scan.found);
    bytes += scan.bytes;
  } else {
    for (const name of await stack.blobNames()) {
      const stored = await buffer((await stack.api.infra.blobs.read(name)).stream);
      bytes += stored.length;
      found.push(...secretsIn(stored, secrets).map((hit) => `${hit} in blob ${name}`));
    }
    for (const id of await stack.recordIds()) {
      const record = Buffer.from(JSON.stringify(await stack.record(id)));
      found.push(...secretsIn(record, secrets).map((hit) => `${hit} in record ${id}`));
    }
  }
  const queued = Buffer.from(await redisDump(stack.config.redis.url, stack.config.redis.queuePrefix));
  found.push(...secretsIn(queued, secrets).map((hit) => `${hit} in Redis`));
  found.push(...secretsIn(Buffer.from(logs.join('')), secrets).map((hit) => `${hit} in the server's logs`));
  return { found, bytes };
}

describe('one-time send / get, end-to-end encrypted', () => {
  it('sends a 40 MiB file encrypted by default; get restores bytes and name; the server holds only ciphertext', async () => {
    const marker = `marker-${randomBytes(16).toString('hex')}`;
    const fileName = `secret-${randomBytes(12).toString('hex')}.bin`;
    const size = 40 * MiB; // five 8 MiB chunks
    const sender = await freshFolder('send');
    const sha = await writeMarkedFile(join(sender, fileName), size, marker);

    const sent = await cli(sender, ['send', fileName, '--downloads', '2']);
    const { link, code, key } = linkOf(sent);
    expect(sent.stdout).toContain('end-to-end encrypted');
    expect(sent.stdout).not.toContain('direct download (curl)');

    // Nothing of the content, the name or the key anywhere on the server's side; nor the code or the delete
    // token (the chunk calls carry both), as for any upload.
    const deleteToken = /revoke with: one-time revoke -- \S+ (\S+)/.exec(sent.stdout)?.[1] ?? '';
    expect(deleteToken).not.toBe('');
    const { found, bytes } = await serverSideFindings({ marker, fileName, key, code, deleteToken });
    expect(found).toEqual([]);
    expect(bytes).toBeGreaterThan(size); // the scan did read the stored ciphertext
    // What the server serves is ciphertext of the announced length (the first of the two downloads).
    const served = Buffer.from(await (await fetch(`${stack.url}/download/${code}`)).arrayBuffer());
    expect(served.length).toBe(encryptedSize(size));
    expect(secretsIn(served, { marker, fileName })).toEqual([]);

    const receiver = await freshFolder('get');
    const got = await cli(receiver, ['get', link]);
    expect(got).toMatchObject({ code: 0, stderr: '', stdout: `saved ${fileName} (${size} bytes)\n` });
    expect(await readdir(receiver)).toEqual([fileName]);
    expect(await sha256Of(join(receiver, fileName))).toBe(sha);
    expect(logs.join('')).not.toContain(key);
  });

  it('refuses a link without its key, or with a wrong one, before anything is downloaded', async () => {
    const sender = await freshFolder('send');
    const content = randomBytes(300 * 1024);
    await writeFile(join(sender, 'plans.pdf'), content);
    const { link, code, key } = linkOf(await cli(sender, ['send', 'plans.pdf']));
    const [withoutKey = ''] = link.split('#');
    const receiver = await freshFolder('get');

    const attempts: Array<[string[], RegExp]> = [
      [['get', withoutKey], /^one-time: This file is end-to-end encrypted and the link has no key.*\(E2E_KEY_MISSING\)\n$/],
      [['get', `${withoutKey}#`], /\(E2E_KEY_MISSING\)\n$/],
      [['get', '--', code], /\(E2E_KEY_MISSING\)\n$/],
      [
        ['get', `${withoutKey}#${keyToFragment(generateKey())}`],
        /^one-time: The key in the link does not open this file.*\(E2E_KEY_WRONG\)\n$/,
      ],
      [['get', `${withoutKey}#${key.slice(0, 20)}`], /^one-time: The key in the link is damaged.*\(E2E_KEY_WRONG\)\n$/],
    ];
    for (const [args, message] of attempts) {
      const refused = await cli(receiver, args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr).toMatch(message);
      expect(refused.stderr).toContain('Nothing was downloaded.');
      expect(refused.stderr).not.toContain(code);
      expect(refused.stdout).toBe('');
      expect(await readdir(receiver)).toEqual([]);
    }

    // `info` never consumes: without the key it says what it can, with the key it tells the name.
    const blind = await cli(receiver, ['info', withoutKey]);
    expect(blind).toMatchObject({ code: 0, stderr: '' });
    expect(blind.stdout).toMatch(/end-to-end encrypted/);
    expect(blind.stdout).toContain('1 download(s) left');
    expect(blind.stdout).not.toContain('plans.pdf');
    const told = await cli(receiver, ['info', link]);
    expect(told.stdout).toMatch(/^plans\.pdf {2}307200 bytes .*1 download\(s\) left {2}end-to-end encrypted\n$/);

    // The file is still there, whole, for the right link: once.
    const got = await cli(receiver, ['get', link]);
    expect(got).toMatchObject({ code: 0, stdout: 'saved plans.pdf (307200 bytes)\n', stderr: '' });
    expect((await readFile(join(receiver, 'plans.pdf'))).equals(content)).toBe(true);
    const again = await cli(receiver, ['get', '-o', 'again.pdf', link]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^one-time: .*\(NOT_FOUND\)\n$/);
    expect(await readdir(receiver)).toEqual(['plans.pdf']);
  });

  it('zips several files as it sends them, encrypted: they arrive as files.zip', async () => {
    const sender = await freshFolder('send');
    const first = randomBytes(3 * MiB + 5);
    await writeFile(join(sender, 'a.bin'), first);
    await writeFile(join(sender, 'notes.txt'), 'the second file');
    const { link } = linkOf(await cli(sender, ['send', 'a.bin', 'notes.txt']));
    const receiver = await freshFolder('get');
    const got = await cli(receiver, ['get', link]);
    expect(got).toMatchObject({ code: 0, stderr: '' });
    expect(got.stdout).toMatch(/^saved files\.zip \(\d+ bytes\)\n$/);
    const entries = unzipSync(new Uint8Array(await readFile(join(receiver, 'files.zip'))));
    expect(Object.keys(entries)).toEqual(['a.bin', 'notes.txt']);
    expect(Buffer.from(entries['a.bin'] ?? []).equals(first)).toBe(true);
    expect(Buffer.from(entries['notes.txt'] ?? []).toString()).toBe('the second file');
  });

  it('--no-e2e sends the old way: a plain link and a /download/<code> link curl can fetch', async () => {
    const sender = await freshFolder('send');
    const content = randomBytes(2 * MiB);
    await writeFile(join(sender, 'plain.bin'), content);
    const sent = await cli(sender, ['send', '--no-e2e', 'plain.bin']);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const [link = '', direct = ''] = sent.stdout.trim().split('\n');
    expect(link).toMatch(/\/d\/[A-Za-z0-9_-]{22}$/);
    expect(direct).toBe(`direct download (curl): ${link.replace('/d/', '/download/')}`);
    const target = join(await freshFolder('curl'), 'fetched.bin');
    await promisify(execFile)('curl', [
      '--silent',
      '--show-error',
      '--fail',
      '--output',
      target,
      link.replace('/d/', '/download/'),
    ]);
    expect((await readFile(target)).equals(content)).toBe(true);

    const help = await cli(sender, ['--help']);
    expect(help.stdout).toContain('--no-e2e');
  });

  it('resumes a chunk upload cut mid-way, and one whose answer was lost, and completes', async () => {
    const sender = await freshFolder('send');
    const size = 40 * MiB;
    const sha = await writeMarkedFile(join(sender, 'cut.bin'), size, 'cut');
    // Requests: chunk 0, chunk 1 (cut after 3 MiB), chunk 1 again, chunk 2, chunk 3 (stored, answer lost), chunk 4, …
    const proxy = await chunkCuttingProxy(stack.url, [
      { put: 1, afterBytes: 3 * MiB },
      { put: 4, dropAnswer: true },
    ]);
    let sent: CliResult;
    try {
      sent = await cli(sender, ['send', 'cut.bin'], proxy.url);
      expect(proxy.cuts()).toBe(2);
      expect(proxy.statusQueries()).toBeGreaterThanOrEqual(2);
      // Each chunk once, chunk 1 twice: the chunk whose answer was lost is not sent again, the server had it.
      expect(proxy.puts()).toBe(Math.ceil(encryptedSize(size) / (8 * MiB)) + 1);
    } finally {
      await proxy.close();
    }
    expect(sent.code).toBe(0);
    expect(sent.stderr).toMatch(
      /^one-time: sending chunk 1 failed; sending it again \(attempt 1\)\none-time: sending chunk 3 failed; sending it again \(attempt 1\)\n$/,
    );
    const [link = ''] = sent.stdout.trim().split('\n');
    const receiver = await freshFolder('get');
    const got = await cli(receiver, ['get', link]);
    expect(got).toMatchObject({ code: 0, stderr: '', stdout: `saved cut.bin (${size} bytes)\n` });
    expect(await sha256Of(join(receiver, 'cut.bin'))).toBe(sha);
  });

  it(
    'keeps memory flat in the file size, both ways: peak RSS for 200 MiB stays close to 40 MiB',
    { timeout: 300_000 },
    async () => {
      const figures: Record<number, { send: CliResult; get: CliResult }> = {};
      for (const mib of [40, 200]) {
        const sender = await freshFolder('send');
        const sha = await writeMarkedFile(join(sender, 'big.bin'), mib * MiB, 'big');
        const send = await cli(sender, ['send', 'big.bin']);
        const { link } = linkOf(send);
        await rm(sender, { recursive: true });
        const receiver = await freshFolder('get');
        const get = await cli(receiver, ['get', link]);
        expect(get).toMatchObject({ code: 0, stderr: '' });
        expect(await sha256Of(join(receiver, 'big.bin'))).toBe(sha);
        await rm(receiver, { recursive: true });
        figures[mib] = { send, get };
      }
      const small = figures[40];
      const large = figures[200];
      if (!small || !large) throw new Error('unreachable');
      const peak = (run: CliResult) => Math.round((run.peakRss ?? Number.NaN) / MiB);
      const rate = (run: CliResult) => Math.round(200 / run.seconds);
      console.info(
        `e2e CLI peak RSS: send ${peak(small.send)} → ${peak(large.send)} MiB, get ${peak(small.get)} → ${peak(large.get)} MiB ` +
          `(40 → 200 MiB); 200 MiB at ${rate(large.send)} MiB/s sent, ${rate(large.get)} MiB/s got (process start included)`,
      );
      // Buffering the file would add 160 MiB (five times that 40 MiB file's difference); garbage collection timing varies.
      expect(peak(large.send) - peak(small.send)).toBeLessThan(48);
      expect(peak(large.get) - peak(small.get)).toBeLessThan(48);
      expect(peak(large.send)).toBeLessThan(200);
      expect(peak(large.get)).toBeLessThan(200);
    },
  );
});

describe('the client bundle in a browser and the CLI speak the same format', () => {
  it('a page sends end to end, the CLI gets it; the CLI sends, the page decrypts it', async () => {
    // The client as a browser gets it: one ES module, no Node built-ins (chunks go as byte arrays).
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('../libs/client/src/index.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      external: ['node:*'],
    });
    await stop(); // its service process would outlive the test run
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.route(`${stack.url}/__e2e-cli`, (route) =>
        route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>e2e</title><p>e2e</p>' }),
      );
      await page.goto(`${stack.url}/__e2e-cli`);
      await page.addScriptTag({
        type: 'module',
        content: `${bundle.outputFiles[0]?.text ?? ''}\nwindow.oneTime = { createOneTimeClient };`,
      });
      await page.waitForFunction(() => 'oneTime' in window);
      type Page = {
        oneTime: {
          createOneTimeClient(options: { baseUrl: string }): {
            uploadEncrypted(input: File): Promise<{ url: string }>;
            download(link: string): Promise<{ name: string; contentType: string; stream: ReadableStream<Uint8Array> }>;
          };
        };
      };

      const link = await page.evaluate(async (baseUrl) => {
        const client = (window as unknown as Page).oneTime.createOneTimeClient({ baseUrl });
        const content = 'written in a browser, '.repeat(600_000); // ~13 MiB: two chunks
        return (await client.uploadEncrypted(new File([content], 'from-page.txt', { type: 'text/plain' }))).url;
      }, stack.url);
      const receiver = await freshFolder('get');
      const got = await cli(receiver, ['get', link]);
      expect(got).toMatchObject({ code: 0, stderr: '' });
      expect(await readFile(join(receiver, 'from-page.txt'), 'utf8')).toBe('written in a browser, '.repeat(600_000));

      const sender = await freshFolder('send');
      await writeFile(join(sender, 'from-cli.txt'), 'written by the CLI');
      const { link: cliLink } = linkOf(await cli(sender, ['send', 'from-cli.txt']));
      const opened = await page.evaluate(
        async ([baseUrl, url]) => {
          const client = (window as unknown as Page).oneTime.createOneTimeClient({ baseUrl });
          const file = await client.download(url);
          return { name: file.name, type: file.contentType, text: await new Response(file.stream).text() };
        },
        [stack.url, cliLink] as const,
      );
      expect(opened).toEqual({ name: 'from-cli.txt', type: 'application/octet-stream', text: 'written by the CLI' });
    } finally {
      await browser.close();
    }
  });
});
