import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decryptStream, encryptedSize, keyFromFragment, openMetadata } from '@one-time/e2e';
import { OneTimeError, createOneTimeClient, fragmentOf, zipLength, zipWriter } from '../src/index.ts';
import { sealableMetadata } from '../src/encrypted-upload.ts';

/**
 * The encrypted upload and download against an in-memory server that speaks docs/chunked-uploads.md (and
 * serves what was uploaded), and can fail on purpose: the retry and resume logic, without a network.
 */
const CHUNK = 64 * 1024;
const BASE = 'http://one-time.test';

type Fault = 'drop-request' | 'drop-answer' | number;

interface Fake {
  readonly fetch: typeof fetch;
  readonly calls: string[];
  /** Faults for the next calls whose `METHOD path` matches, used up in order. */
  readonly faults: Array<{ readonly match: RegExp; readonly fault: Fault }>;
  readonly stored: Map<number, Uint8Array>;
  meta: string | undefined;
  size: number;
  completed: boolean;
  /** Changes what `/download` serves. */
  tamper?: (ciphertext: Uint8Array) => Uint8Array;
}

function fakeServer(): Fake {
  const fake: Fake = {
    calls: [],
    faults: [],
    stored: new Map(),
    meta: undefined,
    size: 0,
    completed: false,
    fetch: async (input, init = {}) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const method = init.method ?? 'GET';
      const call = `${method} ${url.pathname}`;
      fake.calls.push(call);
      const at = fake.faults.findIndex((entry) => entry.match.test(call));
      const fault = at < 0 ? undefined : fake.faults.splice(at, 1)[0]?.fault;
      if (fault === 'drop-request') throw new TypeError('fetch failed');
      if (typeof fault === 'number')
        return json(fault, { error: { code: fault === 409 ? 'CHUNK_BUSY' : 'STORAGE_UNAVAILABLE', message: 'x' } });
      const body = init.body ? new Uint8Array(await new Response(init.body).arrayBuffer()) : new Uint8Array(0);
      const answer = route(fake, method, url, body);
      if (fault === 'drop-answer') throw new TypeError('fetch failed');
      return answer;
    },
  };
  return fake;
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

function route(fake: Fake, method: string, url: URL, body: Uint8Array): Response {
  const chunks = Math.ceil(fake.size / CHUNK);
  const path = url.pathname;
  if (method === 'POST' && path === '/uploads') {
    const request = JSON.parse(new TextDecoder().decode(body)) as { size: number; meta: string };
    fake.size = request.size;
    fake.meta = request.meta;
    return json(201, {
      code: 'CODE',
      url: `${BASE}/d/CODE`,
      downloadUrl: `${BASE}/download/CODE`,
      chunkSize: CHUNK,
      chunks: Math.ceil(request.size / CHUNK),
      deleteToken: 'TOKEN',
    });
  }
  const put = /^\/uploads\/CODE\/(\d+)$/.exec(path);
  if (method === 'PUT' && put) {
    const index = Number(put[1]);
    const length = Math.min(CHUNK, fake.size - index * CHUNK);
    if (body.length !== length) return json(400, { error: { code: 'UPLOAD_INCOMPLETE', message: 'x' } });
    fake.stored.set(index, body);
    return json(200, { index, size: length, received: 0 });
  }
  if (method === 'GET' && path === '/uploads/CODE') {
    return json(200, { size: fake.size, chunkSize: CHUNK, chunks, stored: [...fake.stored.keys()].sort((a, b) => a - b) });
  }
  if (method === 'POST' && path === '/uploads/CODE/complete') {
    if (fake.stored.size !== chunks) return json(409, { error: { code: 'CHUNKS_MISSING', message: 'x' } });
    // As the API: completing twice is refused, the upload is no longer in progress.
    if (fake.completed) return json(404, { error: { code: 'NOT_FOUND', message: 'x' } });
    fake.completed = true;
    return json(201, {
      code: 'CODE',
      url: `${BASE}/d/CODE`,
      downloadUrl: `${BASE}/download/CODE`,
      expiresAt: '2030-01-01T00:00:00.000Z',
      size: fake.size,
      downloadsLeft: 1,
      deleteToken: 'TOKEN',
    });
  }
  if (method === 'GET' && path === '/trpc/file.info') {
    const data = { available: true, name: 'encrypted', contentType: 'application/octet-stream', size: fake.size };
    return json(200, {
      result: { data: { ...data, expiresAt: '2030-01-01T00:00:00.000Z', downloadsLeft: 1, e2e: { meta: fake.meta } } },
    });
  }
  if (method === 'GET' && path === '/download/CODE') {
    const ciphertext = (fake.tamper ?? ((bytes) => bytes))(ciphertextOf(fake));
    return new Response(ciphertext as Uint8Array<ArrayBuffer>, {
      headers: { 'content-length': String(ciphertext.length), 'content-type': 'application/octet-stream' },
    });
  }
  return json(404, { error: { code: 'NOT_FOUND', message: 'x' } });
}

function ciphertextOf(fake: Fake): Uint8Array {
  const all = new Uint8Array(fake.size);
  for (const [index, bytes] of fake.stored) all.set(bytes, index * CHUNK);
  return all;
}

async function plaintextOf(
  fake: Fake,
  link: string,
): Promise<{ bytes: Buffer; meta: { name: string; type: string; size: number } }> {
  const key = keyFromFragment(fragmentOf(link) ?? '');
  const meta = await openMetadata(key, fake.meta ?? '');
  const plain = new Response(new Blob([ciphertextOf(fake) as Uint8Array<ArrayBuffer>]).stream().pipeThrough(decryptStream(key)));
  return { bytes: Buffer.from(await plain.arrayBuffer()), meta };
}

const fast = { retryDelayMs: 1 };

describe('uploadEncrypted', () => {
  it('encrypts, seals the name, type and size, sends every chunk and returns the link with the key', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    const data = randomBytes(5 * CHUNK + 123);
    const progress: number[] = [];
    const sent = await client.uploadEncrypted(
      { source: data, name: '../dir/report.pdf', type: 'application/pdf' },
      { onProgress: ({ sent: done }) => progress.push(done) },
    );
    expect(sent.url).toMatch(/^http:\/\/one-time\.test\/d\/CODE#[A-Za-z0-9_-]{22}$/);
    expect(fake.size).toBe(encryptedSize(data.length));
    expect(progress.at(-1)).toBe(fake.size);
    const { bytes, meta } = await plaintextOf(fake, sent.url);
    expect(bytes.equals(data)).toBe(true);
    expect(meta).toEqual({ name: 'report.pdf', type: 'application/pdf', size: data.length });
    expect(fake.calls.filter((call) => call.startsWith('PUT'))).toHaveLength(Math.ceil(fake.size / CHUNK));
  });

  it('retries failed chunks; after a lost connection asks what arrived and does not resend what did', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    fake.faults.push(
      { match: /^PUT \/uploads\/CODE\/1$/, fault: 'drop-request' },
      { match: /^PUT \/uploads\/CODE\/2$/, fault: 503 },
      { match: /^PUT \/uploads\/CODE\/2$/, fault: 409 },
      { match: /^PUT \/uploads\/CODE\/3$/, fault: 'drop-answer' },
      { match: /^GET \/uploads\/CODE$/, fault: 'drop-request' }, // the first "what arrived?" fails too
      { match: /^POST \/uploads\/CODE\/complete$/, fault: 503 },
    );
    const retries: string[] = [];
    const data = randomBytes(4 * CHUNK + 1);
    const sent = await client.uploadEncrypted(
      { source: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), name: 'x.bin', size: data.length },
      { ...fast, onRetry: ({ chunk, attempt }) => retries.push(`${chunk}:${attempt}`) },
    );
    expect(retries).toEqual(['1:1', '2:1', '2:2', '3:1']);
    const puts = fake.calls.filter((call) => call.startsWith('PUT')).map((call) => call.split('/').pop());
    // Chunk 3 arrived although its answer was lost: the second question said so, it is not sent again.
    expect(puts).toEqual(['0', '1', '1', '2', '2', '2', '3', '4']);
    expect(fake.faults).toEqual([]);
    expect((await plaintextOf(fake, sent.url)).bytes.equals(data)).toBe(true);
  });

  it('finds the file when the answer to completing it was lost', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    fake.faults.push({ match: /^POST \/uploads\/CODE\/complete$/, fault: 'drop-answer' });
    const sent = await client.uploadEncrypted(randomBytes(10), fast);
    expect(sent).toMatchObject({ code: 'CODE', expiresAt: '2030-01-01T00:00:00.000Z', downloadsLeft: 1, deleteToken: 'TOKEN' });
    expect(fake.calls.slice(-3)).toEqual(['POST /uploads/CODE/complete', 'POST /uploads/CODE/complete', 'GET /trpc/file.info']);
  });

  it('gives up after the retries, and at once on an answer that will not change', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    for (let n = 0; n < 3; n++) fake.faults.push({ match: /^PUT /, fault: 503 });
    await expect(client.uploadEncrypted(randomBytes(100), { ...fast, retries: 2 })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    const refused = fakeServer();
    const calls = refused.calls;
    const wrapped: typeof fetch = (input, init) =>
      (input as string).endsWith('/0') // the client passes URLs as strings
        ? Promise.resolve(json(403, { error: { code: 'FORBIDDEN', message: 'no' } }))
        : refused.fetch(input, init);
    await expect(
      createOneTimeClient({ baseUrl: BASE, fetch: wrapped }).uploadEncrypted(randomBytes(100), fast),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(calls).toEqual(['POST /uploads']);
  });

  it('runs again after the retries ran out, as a browser would: Blob chunks, nothing stored sent twice', async () => {
    const fake = fakeServer();
    const bodies: string[] = [];
    const recording: typeof fetch = (input, init) => {
      if (init?.method === 'PUT') bodies.push(init.body instanceof Blob ? 'blob' : typeof init.body);
      return fake.fetch(input, init);
    };
    // No streamed request bodies (a browser over HTTP/1.1): chunks go as Blobs.
    const client = createOneTimeClient({ baseUrl: BASE, fetch: recording, streamingUploads: false });
    // Chunk 2 fails three times (the first try and both retries); the last of them reached the server, only its
    // answer was lost.
    fake.faults.push(
      { match: /^PUT \/uploads\/CODE\/2$/, fault: 'drop-request' },
      { match: /^PUT \/uploads\/CODE\/2$/, fault: 'drop-request' },
      { match: /^PUT \/uploads\/CODE\/2$/, fault: 'drop-answer' },
    );
    const data = randomBytes(4 * CHUNK + 5);
    const progress: number[] = [];
    const upload = await client.encryptedUpload(
      { source: data, name: 'x.bin' },
      { ...fast, retries: 2, onProgress: ({ sent: done }) => progress.push(done) },
    );
    expect(upload.plainSize).toBe(data.length);
    await expect(upload.run()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(upload.resumable).toBe(true);
    // The next run asks what arrived: chunk 2 did, it is not sent again.
    const sent = await upload.run();
    expect(upload.resumable).toBe(false);
    expect(await upload.run()).toBe(sent);
    const puts = fake.calls.filter((call) => call.startsWith('PUT')).map((call) => call.split('/').pop());
    expect(puts).toEqual(['0', '1', '2', '2', '2', '3', '4']);
    expect(new Set(bodies)).toEqual(new Set(['blob']));
    expect(progress.at(-1)).toBe(upload.size);
    expect((await plaintextOf(fake, sent.url)).bytes.equals(data)).toBe(true);
  });

  it('fails at once when creating the upload fails, if told not to retry that', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    fake.faults.push({ match: /^POST \/uploads$/, fault: 503 });
    const upload = await client.encryptedUpload(randomBytes(10), { ...fast, retryCreate: false });
    await expect(upload.run()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(upload.resumable).toBe(false); // nothing exists on the server to go on with
    expect(fake.calls).toEqual(['POST /uploads']);
  });

  it('cannot be taken up again once aborted', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    const upload = await client.encryptedUpload(randomBytes(3 * CHUNK));
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(upload.run(controller.signal)).rejects.toThrow('stop');
    expect(upload.resumable).toBe(false);
    await expect(upload.run()).rejects.toBeInstanceOf(OneTimeError);
  });

  it('needs the size of a stream, and takes a Blob with its type', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    await expect(client.uploadEncrypted(Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(OneTimeError);
    const sent = await client.uploadEncrypted(new File(['<p>hi</p>'], 'page.html', { type: 'text/html' }));
    expect((await plaintextOf(fake, sent.url)).meta).toEqual({ name: 'page.html', type: 'text/html', size: 9 });
  });

  it('zips several files as they stream, as files.zip', async () => {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    const big = randomBytes(3 * CHUNK);
    const sent = await client.uploadEncrypted([
      { source: big, name: 'big.bin' },
      new File(['second'], 'b.txt'),
      { source: Readable.from([Buffer.from('third')]), name: 'b.txt', size: 5 },
    ]);
    const { bytes, meta } = await plaintextOf(fake, sent.url);
    expect(meta).toEqual({ name: 'files.zip', type: 'application/zip', size: bytes.length });
    const entries = unzipSync(new Uint8Array(bytes));
    expect(Object.keys(entries)).toEqual(['big.bin', 'b.txt', 'b (2).txt']);
    expect(Buffer.from(entries['big.bin'] ?? []).equals(big)).toBe(true);
    expect(Buffer.from(entries['b (2).txt'] ?? []).toString()).toBe('third');
  });
});

describe('download of an end-to-end encrypted file', () => {
  async function uploaded(data: Uint8Array) {
    const fake = fakeServer();
    const client = createOneTimeClient({ baseUrl: BASE, fetch: fake.fetch });
    const sent = await client.uploadEncrypted({ source: data, name: 'a.txt', type: 'text/plain' });
    fake.calls.length = 0;
    return { fake, client, link: sent.url };
  }

  it('decrypts with the key in the link, under the sealed name, type and size', async () => {
    const data = randomBytes(3 * CHUNK + 7);
    const { client, link } = await uploaded(data);
    const file = await client.download(link);
    expect(file).toMatchObject({ name: 'a.txt', contentType: 'text/plain', size: data.length, endToEnd: true });
    expect(Buffer.from(await new Response(file.stream).arrayBuffer()).equals(data)).toBe(true);
    expect((await client.describe(link)).name).toBe('a.txt');
  });

  it('tells a missing, damaged or wrong key before downloading anything', async () => {
    const { fake, client, link } = await uploaded(randomBytes(100));
    const [base = ''] = link.split('#');
    await expect(client.download(base)).rejects.toMatchObject({ code: 'E2E_KEY_MISSING' });
    await expect(client.download('CODE')).rejects.toMatchObject({ code: 'E2E_KEY_MISSING' });
    await expect(client.download(`${base}#short`)).rejects.toMatchObject({ code: 'E2E_KEY_WRONG' });
    await expect(client.download(`${base}#${'A'.repeat(22)}`)).rejects.toMatchObject({ code: 'E2E_KEY_WRONG' });
    await expect(client.download('CODE', { key: fragmentOf(link) ?? '' })).resolves.toMatchObject({ name: 'a.txt' });
    expect(fake.calls.filter((call) => call.startsWith('GET /download'))).toHaveLength(1);
  });

  it('fails the stream when the ciphertext was changed or cut', async () => {
    const { fake, client, link } = await uploaded(randomBytes(3 * CHUNK));
    fake.tamper = (bytes) => {
      const changed = bytes.slice();
      changed[CHUNK + 5] = (changed[CHUNK + 5] ?? 0) ^ 1;
      return changed;
    };
    const changed = await client.download(link);
    await expect(new Response(changed.stream).arrayBuffer()).rejects.toMatchObject({ code: 'E2E_DECRYPT_FAILED' });
    fake.tamper = (bytes) => bytes.subarray(0, bytes.length - 100);
    const cut = await client.download(link);
    await expect(new Response(cut.stream).arrayBuffer()).rejects.toMatchObject({ code: 'E2E_DECRYPT_FAILED' });
  });
});

describe('zipWriter', () => {
  it('knows its length before it streams, with and without ZIP64 records', async () => {
    for (const forceZip64 of [false, true]) {
      const files = [
        { name: 'é.txt', data: Buffer.from('accent') },
        { name: 'empty', data: Buffer.alloc(0) },
        { name: 'r.bin', data: randomBytes(70_001) },
      ];
      const sources = files.map(({ name, data }) => ({ name, size: data.length, open: () => Readable.from([data]) }));
      const zip = zipWriter(sources, { forceZip64 });
      const bytes = new Uint8Array(await new Response(zip.stream).arrayBuffer());
      expect(bytes.length).toBe(zip.size);
      expect(zipLength(sources, { forceZip64 })).toBe(zip.size);
      const entries = unzipSync(bytes);
      expect(Object.keys(entries)).toEqual(['é.txt', 'empty', 'r.bin']);
      expect(Buffer.from(entries['r.bin'] ?? []).equals(files[2]?.data ?? Buffer.alloc(0))).toBe(true);
    }
  });

  it('fails when a file is not the size it said', async () => {
    const zip = zipWriter([{ name: 'a', size: 10, open: () => Readable.from([Buffer.from('short')]) }]);
    await expect(new Response(zip.stream).arrayBuffer()).rejects.toThrow(/5 bytes instead of 10/);
  });
});

describe('sealableMetadata', () => {
  it('cleans what sealMetadata refuses: control characters in names, unprintable types', () => {
    expect(sealableMetadata({ name: 'a\nb\u0000.txt', type: 'text/plain', size: 3 })).toEqual({
      name: 'a_b_.txt',
      type: 'text/plain',
      size: 3,
    });
    expect(sealableMetadata({ name: '', type: 'tëxt/plain', size: 0 })).toEqual({
      name: 'file',
      type: 'application/octet-stream',
      size: 0,
    });
    expect(sealableMetadata({ name: 'dir/x.bin', type: '', size: 1 })).toEqual({
      name: 'x.bin',
      type: 'application/octet-stream',
      size: 1,
    });
  });
});
