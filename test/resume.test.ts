import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { fileIdForCode } from '@one-time/core';
import { generatedFile, getAnswer, sha256, uploadJson, type Answer, type UploadAnswer } from './support/http.ts';
import { cuttingProxy } from './support/cutting-proxy.ts';
import { eventually, fileIsGone, startStack, type Stack } from './support/stack.ts';

const MiB = 1024 * 1024;
/**
 * The server counts a download as delivered once its last byte is handed to the network; loopback socket
 * buffers take several MiB, so a file cut off early must be larger than that to still be unfinished.
 */
const LARGER_THAN_SOCKET_BUFFERS = 32 * MiB;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** One request; with `cutAfter`, the socket is dropped once that many body bytes arrived (a broken network). */
function get(url: string, headers: Record<string, string> = {}, cutAfter = Infinity, method = 'GET'): Promise<Answer> {
  return getAnswer(url, { headers, cutAfter, method });
}

const gone = (id: string) => fileIsGone(stack, id);

/** Uploads a file and cuts its first download after `fraction` of it; returns what the claimant holds. */
async function cutOffDownload(content: Buffer | ReturnType<typeof generatedFile>, fraction: number, name = 'big.bin') {
  const answer = await uploadJson(stack.url, [
    { field: 'file', filename: name, content: Buffer.isBuffer(content) ? content : content.stream() },
  ]);
  const size = Buffer.isBuffer(content) ? content.length : content.size;
  const first = await get(answer.downloadUrl, {}, Math.floor(size * fraction));
  expect(first.status).toBe(200);
  expect(first.complete).toBe(false);
  const session = String(first.headers['one-time-session']);
  return { answer, first, session, etag: String(first.headers.etag), id: fileIdForCode(answer.code) };
}

describe('a cut-off download', () => {
  it('resumes with its session from the byte it stopped at, then is gone for everyone', async () => {
    const file = generatedFile(40 * MiB);
    const { answer, first, session, etag, id } = await cutOffDownload(file, 0.3);
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{16}"$/);
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(String(first.headers['set-cookie'])).toContain(`one_time_session=${session}; Path=/download/${answer.code}`);
    expect(await stack.record(id)).toMatchObject({ downloadsLeft: 0 }); // the download was taken …

    const rest = await get(answer.downloadUrl, {
      'one-time-session': session,
      range: `bytes=${first.body.length}-`,
      'if-range': etag,
    });
    expect(rest.status).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes ${first.body.length}-${file.size - 1}/${file.size}`);
    expect(rest.headers['content-length']).toBe(String(file.size - first.body.length));
    expect(sha256(Buffer.concat([first.body, rest.body]))).toBe(file.sha256); // … and finished by its claimant

    expect(await eventually(() => gone(id), 10_000)).toBe(true);
    expect((await get(answer.downloadUrl)).status).toBe(404);
    expect((await get(answer.downloadUrl, { 'one-time-session': session, range: 'bytes=0-' })).status).toBe(404);
  });

  it('gives nothing to a second party with the link but not the session, and the claimant still finishes', async () => {
    const content = randomBytes(LARGER_THAN_SOCKET_BUFFERS);
    const { answer, first, session } = await cutOffDownload(content, 0.05);
    const stranger = [
      await get(answer.downloadUrl),
      await get(answer.downloadUrl, { range: `bytes=${first.body.length}-` }),
      await get(answer.downloadUrl, { range: 'bytes=0-', 'one-time-session': randomBytes(32).toString('base64url') }),
      await get(answer.downloadUrl, { cookie: `one_time_session=${'A'.repeat(43)}`, range: 'bytes=0-' }),
    ];
    expect(stranger.map((answer) => answer.status)).toEqual([404, 404, 404, 404]);
    expect(stranger[0]!.body.toString()).toMatch(/unknown, used up, expired or revoked/);

    // The browser's way: the cookie it was given, on the same path.
    const rest = await get(answer.downloadUrl, { cookie: `one_time_session=${session}`, range: `bytes=${first.body.length}-` });
    expect(rest.status).toBe(206);
    expect(Buffer.concat([first.body, rest.body]).equals(content)).toBe(true);
  });

  it('is purged when its window ends unfinished, and cannot be resumed after that', async () => {
    const short = await startStack({ env: { RESUME_WINDOW: '2s' } });
    try {
      const content = randomBytes(LARGER_THAN_SOCKET_BUFFERS);
      const answer = await uploadJson(short.url, [{ field: 'file', filename: 'w.bin', content }]);
      const first = await get(answer.downloadUrl, {}, 1000);
      const id = fileIdForCode(answer.code);
      const session = String(first.headers['one-time-session']);
      expect(Date.parse(String(first.headers['one-time-session-expires'])) - Date.now()).toBeLessThanOrEqual(2_000);
      expect(await short.record(id)).toMatchObject({ state: 'ready', downloadsLeft: 0 }); // held by its session
      // The sweeper is off in this stack: the job queued for the window's end does it.
      expect(await eventually(async () => (await short.tracesOf(id)) === 0, 15_000)).toBe(true);
      expect((await get(answer.downloadUrl, { 'one-time-session': session, range: 'bytes=1000-' })).status).toBe(404);
    } finally {
      await short.stop();
    }
  });

  it('serves ranges at the start, the middle, the last byte and from the end; refuses one past the end', async () => {
    const content = randomBytes(LARGER_THAN_SOCKET_BUFFERS);
    const size = content.length;
    const { answer, session } = await cutOffDownload(content, 0.01);
    const range = (value: string, extra: Record<string, string> = {}) =>
      get(answer.downloadUrl, { 'one-time-session': session, range: value, ...extra });

    const past = await range(`bytes=${size}-`);
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${size}`);
    expect(JSON.parse(past.body.toString())).toMatchObject({ error: { code: 'RANGE_NOT_SATISFIABLE' } });
    expect(past.headers['content-disposition']).toBeUndefined(); // an error, not a file to save
    // Several ranges, or an If-Range that is not this file's ETag: the whole file (cut off again), still under
    // the session.
    for (const whole of [
      await get(answer.downloadUrl, { 'one-time-session': session, range: 'bytes=0-1,5-6' }, MiB),
      await get(answer.downloadUrl, { 'one-time-session': session, range: 'bytes=10-', 'if-range': '"not-this-one"' }, MiB),
    ]) {
      expect(whole.status).toBe(200);
      expect(whole.headers['content-range']).toBeUndefined();
      expect(whole.headers['content-length']).toBe(String(size));
      expect(whole.body.equals(content.subarray(0, MiB))).toBe(true);
    }

    const middle = Math.floor(size / 2);
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      [`bytes=${middle}-${middle + 9}`, middle, middle + 9],
      // The last byte (an end past it is cut to it): the download is complete with it.
      [`bytes=${size - 1}-${size * 2}`, size - 1, size - 1],
    ];
    for (const [value, from, to] of cases) {
      const part = await range(value);
      expect(part.status, value).toBe(206);
      expect(part.headers['content-range'], value).toBe(`bytes ${from}-${to}/${size}`);
      expect(part.body.equals(content.subarray(from, to + 1)), value).toBe(true);
    }
    // So the session closes (just after the answer ends: the server learns it once its last write is done).
    expect(await eventually(async () => (await range('bytes=0-0')).status === 404, 5_000)).toBe(true);
  });

  it('marks the session cookie Secure behind HTTPS (a trusted proxy says so), and only then', async () => {
    const proxied = await startStack({ worker: false, env: { TRUST_PROXY: 'loopback' } });
    try {
      const cookieOf = async (headers: Record<string, string>) => {
        const answer = await uploadJson(proxied.url, [{ field: 'file', filename: 's.txt', content: 'secure?' }]);
        return String((await get(answer.downloadUrl, headers)).headers['set-cookie']);
      };
      const behindHttps = await cookieOf({ 'x-forwarded-proto': 'https' });
      expect(behindHttps).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
      expect(await cookieOf({})).toMatch(/; HttpOnly; SameSite=Strict$/);
    } finally {
      await proxied.stop();
    }
  });

  it('never opens a session on HEAD, and a HEAD consumes nothing', async () => {
    const answer: UploadAnswer = await uploadJson(stack.url, [{ field: 'file', filename: 'h.txt', content: 'head only' }]);
    const head = await get(answer.downloadUrl, {}, Infinity, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['accept-ranges']).toBe('bytes');
    expect(head.headers.etag).toMatch(/^"[A-Za-z0-9_-]{16}"$/);
    expect(head.headers['content-length']).toBe('9');
    expect(head.headers['set-cookie']).toBeUndefined();
    expect(head.headers['one-time-session']).toBeUndefined();
    expect(await stack.record(fileIdForCode(answer.code))).toMatchObject({ downloadsLeft: 1 });
    expect((await get(answer.downloadUrl)).body.toString()).toBe('head only');
  });

  it('resumes a zip of several files: its length is known and byte N is always the same byte', async () => {
    const files = { 'a.bin': randomBytes(12 * MiB), 'b.txt': Buffer.from('second'), 'c.bin': randomBytes(24 * MiB) };
    const answer = await uploadJson(
      stack.url,
      Object.entries(files).map(([filename, content]) => ({ field: 'file', filename, content })),
    );
    const head = await get(answer.downloadUrl, {}, Infinity, 'HEAD');
    const size = Number(head.headers['content-length']);
    expect(size).toBeGreaterThan(36 * MiB);

    const first = await get(answer.downloadUrl, {}, 13 * MiB); // cut inside the third entry
    expect(first.headers['content-length']).toBe(String(size));
    const session = String(first.headers['one-time-session']);
    const again = await get(answer.downloadUrl, { 'one-time-session': session, range: 'bytes=400000-12999999' });
    expect(again.body.equals(first.body.subarray(400_000, 13_000_000))).toBe(true); // the same bytes again
    const rest = await get(answer.downloadUrl, { 'one-time-session': session, range: `bytes=${first.body.length}-` });
    expect(rest.status).toBe(206);
    const zip = Buffer.concat([first.body, rest.body]);
    expect(zip.length).toBe(size);
    const unzipped = unzipSync(zip);
    for (const [name, content] of Object.entries(files)) expect(Buffer.from(unzipped[name]!).equals(content)).toBe(true);
    expect(await eventually(() => gone(fileIdForCode(answer.code)), 10_000)).toBe(true);
  });

  it('with downloads=2, gives each claim its own session: finishing one leaves the other resumable', async () => {
    const content = randomBytes(LARGER_THAN_SOCKET_BUFFERS);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'two.bin', content }], { downloads: '2' });
    const [one, two] = [await get(answer.downloadUrl, {}, 1000), await get(answer.downloadUrl, {}, 2000)];
    const [sessionOne, sessionTwo] = [String(one.headers['one-time-session']), String(two.headers['one-time-session'])];
    expect(sessionOne).not.toBe(sessionTwo);
    expect((await get(answer.downloadUrl)).status).toBe(404); // both downloads are taken

    const restOne = await get(answer.downloadUrl, { 'one-time-session': sessionOne, range: 'bytes=1000-' });
    expect(Buffer.concat([one.body, restOne.body]).equals(content)).toBe(true);
    const firstClosed = async () =>
      (await get(answer.downloadUrl, { 'one-time-session': sessionOne, range: 'bytes=0-0' })).status === 404;
    expect(await eventually(firstClosed, 5_000)).toBe(true);
    const id = fileIdForCode(answer.code);
    expect(await stack.record(id)).not.toBeNull(); // the second claimant has not finished
    const restTwo = await get(answer.downloadUrl, { 'one-time-session': sessionTwo, range: 'bytes=2000-' });
    expect(Buffer.concat([two.body, restTwo.body]).equals(content)).toBe(true);
    expect(await eventually(() => gone(id), 10_000)).toBe(true);
  });

  it('resumes with curl as the README shows it: -C - with a cookie jar', async () => {
    const content = randomBytes(LARGER_THAN_SOCKET_BUFFERS);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'curl.bin', content }]);
    const folder = await mkdtemp(join(tmpdir(), 'one-time-curl-'));
    const proxy = await cuttingProxy(stack.url, 1, 4 * MiB);
    const curl = (url: string) =>
      new Promise<number>((resolve) => {
        const args = ['-sS', '-f', '-C', '-', '-b', 'jar', '-c', 'jar', '-o', 'curl.bin', url];
        execFile('curl', args, { cwd: folder }, (error) => resolve(error ? Number(error.code) : 0));
      });
    try {
      const link = answer.downloadUrl.replace(stack.url, proxy.url);
      expect(await curl(link)).toBe(18); // CURLE_PARTIAL_FILE: the connection broke
      const partial = (await readFile(join(folder, 'curl.bin'))).length; // 4 MiB less the response's headers
      expect(partial).toBeGreaterThan(3 * MiB);
      expect(partial).toBeLessThan(4 * MiB);
      expect(await curl(link)).toBe(0); // the same command again continues where it stopped
      expect((await readFile(join(folder, 'curl.bin'))).equals(content)).toBe(true);
      expect((await get(answer.downloadUrl)).status).toBe(404);
    } finally {
      await proxy.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
