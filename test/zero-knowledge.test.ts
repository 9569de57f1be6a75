import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { DownloadService } from '@one-time/service';
import { restartableAzurite, restartableMongo } from './faults/restartable.ts';
import { uploadJson, uploadMultipart } from './support/http.ts';
import { redisDump } from './support/redis-dump.ts';
import { encodingsOf, scanFolders, secretsIn } from './support/secret-scan.ts';
import { eventually, startStack, storesUnderTest, type Stack } from './support/stack.ts';

let stack: Stack;
let stores: ScannableStores;

/**
 * Stores of this file's own, so a scan reads everything that was kept and nothing else: a data folder, or a
 * FerretDB and an Azurite that can be stopped (so they write out everything they hold) and started again.
 */
interface ScannableStores {
  readonly env: Record<string, string>;
  readonly folders: readonly string[];
  /** Everything kept is on disk now. */
  settle(): Promise<void>;
  /** Back in service after `settle`. */
  resume(): Promise<void>;
  remove(): Promise<void>;
}

async function scannableStores(): Promise<ScannableStores> {
  if (storesUnderTest() === 'embedded') {
    const dataDir = await mkdtemp(join(tmpdir(), 'one-time-zk-'));
    return {
      env: { DATA_DIR: dataDir },
      folders: [dataDir],
      settle: () => Promise.resolve(), // SQLite's WAL and the blob files are read as they are
      resume: () => Promise.resolve(),
      remove: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const [azurite, mongo] = await Promise.all([restartableAzurite(), restartableMongo()]);
  return {
    env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, MONGO_URL: mongo.url },
    folders: [azurite.folder, mongo.folder],
    // Stopped with SIGTERM, both write out what they hold (Azurite keeps its metadata in memory for seconds).
    settle: async () => void (await Promise.all([azurite.kill(), mongo.kill()])),
    resume: async () => void (await Promise.all([azurite.start(), mongo.start()])),
    remove: async () => void (await Promise.all([azurite.remove(), mongo.remove()])),
  };
}

beforeAll(async () => {
  stores = await scannableStores();
  stack = await startStack({ env: stores.env });
});
afterAll(async () => {
  await stack?.stop();
  await stores?.remove();
});

const PNG_1x1 = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0a3f2c80000000049454e44ae426082',
  'hex',
);

describe('zero knowledge at rest', () => {
  it('leaves neither the content, nor the file name, nor the code, the token or a session in the stores or Redis', async () => {
    const marker = `marker-${randomBytes(16).toString('hex')}`;
    const fileName = `name-${randomBytes(12).toString('hex')}.txt`;
    const content = `${marker}\n`.repeat(20_000); // ~1 MiB, several encryption chunks
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: fileName, content }]);
    // A download under way, cut off before its first byte: its resume session is stored, and its window's job queued.
    const { files, blobs, purges } = stack.api.infra;
    const silent = { info() {}, warn() {}, error() {} };
    const taken = await new DownloadService({ files, blobs, purges, timing: stack.config.timing, log: silent }).open(answer.code);
    taken.stream.destroy();
    await taken.close(false);
    const session = taken.session.secret;
    const secrets = { marker, fileName, code: answer.code, deleteToken: answer.deleteToken, session };

    await stores.settle();
    try {
      const { found, bytes } = await scanFolders(stores.folders, secrets);
      expect(found).toEqual([]);
      expect(bytes).toBeGreaterThan(content.length); // the scan did read the stored ciphertext
    } finally {
      await stores.resume();
    }

    // Every Redis key of this stack, whatever its type (the delayed expiry job lives there).
    const queued = Buffer.from(await redisDump(stack.config.redis.url, stack.config.redis.queuePrefix));
    expect(queued.length).toBeGreaterThan(0);
    expect(secretsIn(queued, secrets)).toEqual([]);

    // And the file still comes back whole with its name, to the holder of the session.
    const download = await fetch(answer.downloadUrl, { headers: { 'one-time-session': session, range: 'bytes=0-' } });
    expect(download.status).toBe(206);
    expect(await download.text()).toBe(content);
    expect(download.headers.get('content-disposition')).toContain(fileName);
  });

  it('finds a secret kept in any of the forms it looks for (the scan can fail)', () => {
    const secret = 'name-0123456789abcdef.txt';
    for (const { how, bytes } of encodingsOf(secret)) {
      const kept = Buffer.concat([Buffer.from('{"some":"record","x":"'), bytes, Buffer.from('"}')]);
      expect(secretsIn(kept, { secret }), how).not.toEqual([]);
    }
    const inBase64 = Buffer.from(Buffer.from(`{"meta":{"name":"${secret}"}}`).toString('base64'));
    expect(secretsIn(inBase64, { secret })).not.toEqual([]);
    expect(secretsIn(Buffer.from('nothing to see'), { secret })).toEqual([]);
  });

  it('never delivers a tampered blob as if whole', async () => {
    const content = randomBytes(300 * 1024);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'whole.bin', content }]);
    const name = `${fileIdForCode(answer.code)}/0`;
    const { blobs } = stack.api.infra;
    const stored = await buffer((await blobs.read(name)).stream);
    expect(stored.includes(content.subarray(0, 64))).toBe(false); // ciphertext, not the content
    stored[200_000] = (stored[200_000] ?? 0) ^ 0x01;
    await blobs.write(name, Readable.from([stored]));

    // The connection is cut, before the headers or in the body (whichever the failed check reaches first):
    // never a clean end that would pass for the whole file.
    const outcome = await fetch(answer.downloadUrl).then(
      async (response) => {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-length')).toBe(String(content.length));
        return response.arrayBuffer().then(
          () => 'ended cleanly',
          () => 'cut in the body',
        );
      },
      () => 'cut before the headers',
    );
    expect(outcome).not.toBe('ended cleanly');
  });
});

describe('revoke', () => {
  it('needs the right token: 403 for a wrong one, 404 for an unknown code, then the file is gone', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'r.txt', content: 'revoke me' }]);
    const revoke = (code: string, token?: string) =>
      fetch(`${stack.url}/files/${code}`, { method: 'DELETE', headers: token === undefined ? {} : { 'x-delete-token': token } });

    expect((await revoke(answer.code, 'wrong-token')).status).toBe(403);
    expect((await revoke(answer.code)).status).toBe(403);
    expect((await revoke('AAAAAAAAAAAAAAAAAAAAAA', answer.deleteToken)).status).toBe(404);
    expect((await revoke('bad', answer.deleteToken)).status).toBe(400);
    expect((await fetch(answer.downloadUrl, { method: 'HEAD' })).status).toBe(200); // still there

    expect((await revoke(answer.code, answer.deleteToken)).status).toBe(204);
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
    const id = fileIdForCode(answer.code);
    expect(
      await eventually(
        async () => ((await stack.record(id)) ? 1 : 0) === 0 && !(await stack.blobNames()).some((n) => n.startsWith(`${id}/`)),
      ),
    ).toBe(true);
  });
});

describe('safe serving', () => {
  it('takes the type from the bytes, not from the client', async () => {
    const png = await uploadJson(stack.url, [
      { field: 'file', filename: 'evil.html', contentType: 'text/html', content: PNG_1x1 },
    ]);
    const image = await fetch(png.downloadUrl);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    expect(image.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'/);
    expect(image.headers.get('referrer-policy')).toBe('no-referrer');
    await image.arrayBuffer();

    for (const [content, type] of [
      ['<!doctype html><script>alert(1)</script>', 'text/html'],
      ['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'],
      [Buffer.from([0x00, 0x01, 0x02, 0xff]), 'application/octet-stream'],
    ] as const) {
      const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'cat.png', contentType: 'image/png', content }]);
      const response = await fetch(answer.downloadUrl);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(response.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
      await response.arrayBuffer();
    }
  });

  it('applies the configured type lists and keeps nothing of a refused file', async () => {
    const strict = await startStack({
      env: {
        DENIED_TYPES: 'image/*',
        ALLOWED_TYPES: 'image/*,text/plain,application/pdf',
      },
    });
    try {
      const denied = await uploadMultipart(strict.url, [{ field: 'file', filename: 'a.png', content: PNG_1x1 }]);
      expect(denied.status).toBe(415);
      expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_TYPE');
      const notAllowed = await uploadMultipart(strict.url, [
        { field: 'file', filename: 'a.bin', content: Buffer.from([0, 1, 2, 3]) },
      ]);
      expect(notAllowed.status).toBe(415);
      const text = await uploadMultipart(strict.url, [{ field: 'file', filename: 'a.txt', content: 'fine' }]);
      expect(text.status).toBe(201);
      await (await fetch(((await text.json()) as { downloadUrl: string }).downloadUrl)).text();
      expect(await eventually(async () => (await strict.recordCount()) === 0 && (await strict.blobNames()).length === 0)).toBe(
        true,
      );
    } finally {
      await strict.stop();
    }
  });
});
