import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { fileIdForCode } from '@one-time/core';
import { downloadHash, generatedFile, multipart, sha256, uploadJson, uploadMultipart } from './support/http.ts';
import { eventually, fileIsGone, startStack, type Stack } from './support/stack.ts';

const MiB = 1024 * 1024;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const gone = (id: string) => fileIsGone(stack, id);

describe('upload once, download once', () => {
  it.each([
    ['0 B', 0],
    ['1 B', 1],
    ['10 MiB', 10 * MiB],
    ['300 MiB', 300 * MiB],
  ])('round-trips %s byte for byte, then answers 404', async (_label, size) => {
    const file = generatedFile(size);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: `f-${size}.bin`, content: file.stream() }]);
    expect(answer.size).toBe(size);
    expect(answer.code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(answer.downloadsLeft).toBe(1);

    const first = await downloadHash(answer.downloadUrl);
    expect(first.status).toBe(200);
    expect(first.size).toBe(size);
    expect(first.sha256).toBe(file.sha256);
    expect(first.headers.get('content-length')).toBe(String(size));
    expect(first.headers.get('cache-control')).toBe('no-store');
    // Random bytes sniff as octet-stream (an attachment), or by chance as text (inline): never as a document.
    expect(first.headers.get('content-disposition')).toMatch(
      new RegExp(`^(attachment|inline); filename="f-${size}.bin"; filename\\*=UTF-8''f-${size}.bin$`),
    );

    const second = await fetch(answer.downloadUrl);
    expect(second.status).toBe(404);
    const body = (await second.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.message).toMatch(/unknown, used up, expired or revoked/);
  });

  it.each([64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1])(
    'answers the same on both sides of the whole-part edge: %i bytes of text, by POST and PUT',
    async (size) => {
      // Two-byte characters, so one is cut at every chunk edge; the last byte may end a character or start one.
      const text = Buffer.alloc(size, Buffer.from('é'));
      const valid = size % 2 === 0;
      const posted = await uploadJson(stack.url, [{ field: 'file', filename: 'edge.txt', content: text }]);
      const put = await fetch(`${stack.url}/upload/edge.txt`, {
        method: 'PUT',
        body: text,
        headers: { accept: 'application/json' },
      });
      for (const { downloadUrl } of [posted, (await put.json()) as { downloadUrl: string }]) {
        const download = await fetch(downloadUrl);
        expect(download.headers.get('content-type')).toBe(valid ? 'text/plain; charset=utf-8' : 'application/octet-stream');
        expect(Buffer.from(await download.arrayBuffer()).equals(text)).toBe(true);
      }
    },
  );

  it('accepts the original curl form field and answers curl with the link as plain text', async () => {
    const { body, contentType } = multipart([
      { field: 'total_files', filename: 'namefile.txt', contentType: 'text/plain', content: 'hello' },
    ]);
    const response = await fetch(`${stack.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': contentType, accept: '*/*' },
      body: Readable.toWeb(body) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const link = (await response.text()).trim();
    // The link to share is the landing page; curl gets the direct path in a header.
    expect(link).toMatch(new RegExp(`^${stack.url}/d/[A-Za-z0-9_-]{22}$`));
    const direct = response.headers.get('x-download-url') ?? '';
    expect(direct).toBe(link.replace('/d/', '/download/'));
    expect(response.headers.get('x-delete-token')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Date.parse(response.headers.get('x-expires-at') ?? '')).toBeGreaterThan(Date.now());
    const download = await fetch(direct);
    expect(await download.text()).toBe('hello');
    expect(download.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('takes a raw PUT body, as curl -T sends it', async () => {
    const file = generatedFile(3 * MiB + 7);
    const response = await fetch(`${stack.url}/upload/report%20final.pdf?downloads=2&ttl=1h`, {
      method: 'PUT',
      headers: { 'content-type': 'application/pdf', accept: 'application/json', 'content-length': String(file.size) },
      body: Readable.toWeb(file.stream()) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { downloadUrl: string; downloadsLeft: number; expiresAt: string };
    expect(answer.downloadsLeft).toBe(2);
    expect(Date.parse(answer.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    for (let i = 0; i < 2; i += 1) {
      const download = await downloadHash(answer.downloadUrl);
      expect(download.sha256).toBe(file.sha256);
      expect(download.headers.get('content-disposition')).toBe(
        `attachment; filename="report final.pdf"; filename*=UTF-8''report%20final.pdf`,
      );
    }
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
  });

  it('zips several files of one upload under one code', async () => {
    const a = generatedFile(2 * MiB);
    const b = 'second file ✓';
    const answer = await uploadJson(stack.url, [
      { field: 'file', filename: 'a.bin', content: a.stream() },
      { field: 'file', filename: 'ünïcode b.txt', contentType: 'text/plain', content: b },
    ]);
    expect(answer.size).toBe(a.size + Buffer.byteLength(b));
    const response = await fetch(answer.downloadUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const entries = unzipSync(new Uint8Array(await response.arrayBuffer()));
    expect(Object.keys(entries).sort()).toEqual(['a.bin', 'ünïcode b.txt']);
    expect(sha256(entries['a.bin'] ?? new Uint8Array())).toBe(a.sha256);
    expect(Buffer.from(entries['ünïcode b.txt'] ?? new Uint8Array()).toString()).toBe(b);
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
  });

  it('serves downloads=3 three times, then 404', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'three.txt', content: 'thrice' }], { downloads: '3' });
    expect(answer.downloadsLeft).toBe(3);
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(answer.downloadUrl);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('thrice');
    }
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
  });

  it('gives exactly one of 50 parallel downloads the file', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'race.txt', content: 'only once' }]);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => fetch(answer.downloadUrl).then(async (r) => ({ status: r.status, body: await r.text() }))),
    );
    const served = responses.filter((r) => r.status === 200);
    expect(served).toHaveLength(1);
    expect(served[0]?.body).toBe('only once');
    expect(responses.filter((r) => r.status === 404)).toHaveLength(49);
  });

  it('answers HEAD without consuming the download', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'head.txt', content: 'peek' }]);
    for (let i = 0; i < 3; i += 1) {
      const head = await fetch(answer.downloadUrl, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe('4');
    }
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('peek');
    expect((await fetch(answer.downloadUrl, { method: 'HEAD' })).status).toBe(404);
  });

  it('removes the blob and the record shortly after the last download', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'bye.txt', content: 'bye' }]);
    const id = fileIdForCode(answer.code);
    expect((await stack.record(id)) ? 1 : 0).toBe(1);
    expect(await stack.blobNames()).toContain(`${id}/0`);
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('bye');
    expect(await eventually(() => gone(id), 10_000)).toBe(true);
  });

  it('uses one message for unknown, used and malformed codes', async () => {
    const unknown = await fetch(`${stack.url}/download/AAAAAAAAAAAAAAAAAAAAAA`);
    expect(unknown.status).toBe(404);
    const malformed = await fetch(`${stack.url}/download/not-a-code`);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('INVALID_CODE');
  });
});

describe('expiry', () => {
  it('makes a 2 s TTL file vanish without any download', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'short.txt', content: 'brief' }], { ttl: '2s' });
    const id = fileIdForCode(answer.code);
    expect(await stack.blobNames()).toContain(`${id}/0`);
    expect(await eventually(() => gone(id), 10_000)).toBe(true);
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
  });

  it('refuses an expired file even before the purge has run', async () => {
    // No worker at all: no expiry job and no sweeper can remove it; only the claim's own expiry check refuses it.
    const idle = await startStack({ worker: false });
    try {
      const answer = await uploadJson(idle.url, [{ field: 'file', filename: 'x.txt', content: 'x' }], { ttl: '1s' });
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await idle.record(fileIdForCode(answer.code))).toMatchObject({ state: 'ready', downloadsLeft: 1 });
      expect((await fetch(answer.downloadUrl)).status).toBe(404);
      expect((await fetch(answer.downloadUrl, { method: 'HEAD' })).status).toBe(404);
    } finally {
      await idle.stop();
    }
  });
});

describe('upload limits', () => {
  it('rejects bad ttl and downloads values before storing anything', async () => {
    // Earlier files may still be being purged, so compare what exists, not how much: nothing new may appear.
    const snapshot = async () => ({
      ids: new Set(await stack.recordIds()),
      blobs: new Set(await stack.blobNames()),
    });
    const before = await snapshot();
    for (const [fields, query] of [
      [{ ttl: '8d' }, ''],
      [{ ttl: 'soon' }, ''],
      [{ downloads: '0' }, ''],
      [{ downloads: '101' }, ''],
      [{ downloads: 'many' }, ''],
      [{}, '?ttl=-1'],
      // units are required; arrays, objects, unknown names and conflicting duplicates are refused
      [{}, '?ttl=24'],
      [{}, '?downloads[]=2'],
      [{}, '?downloads[a]=2'],
      [{}, '?ttl=1h&ttl=2h'],
      [{}, '?tll=1h'],
      [{ ttl: '1h' }, '?ttl=2h'],
      [{ 'downloads[]': '2' }, ''],
    ] as const) {
      const response = await uploadMultipart(stack.url, [{ field: 'file', filename: 'a.txt', content: 'a' }], fields, query);
      expect(response.status, JSON.stringify(fields) + query).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    }
    const after = await snapshot();
    expect([...after.ids].filter((id) => !before.ids.has(id))).toEqual([]);
    expect([...after.blobs].filter((name) => !before.blobs.has(name))).toEqual([]);
  });
});
