import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { Redis } from 'ioredis';
import { BSON, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { startPrivateAzurite, type PrivateAzurite } from './support/azurite.ts';
import { uploadJson, uploadMultipart } from './support/http.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let azurite: PrivateAzurite;

beforeAll(async () => {
  // Storage of this file's own, so the scan below reads everything that was kept and nothing else.
  azurite = await startPrivateAzurite();
  stack = await startStack({ stores: 'scale-out', env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString } });
});
afterAll(async () => {
  await stack?.stop();
  await azurite?.stop();
});

async function* filesUnder(folder: string): AsyncGenerator<string> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

const PNG_1x1 = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0a3f2c80000000049454e44ae426082',
  'hex',
);

describe('zero knowledge at rest', () => {
  it('leaves neither the content, nor the file name, nor the code in storage, MongoDB or Redis', async () => {
    const marker = `marker-${randomBytes(16).toString('hex')}`;
    const fileName = `name-${randomBytes(12).toString('hex')}.txt`;
    const content = `${marker}\n`.repeat(20_000); // ~1 MiB, several encryption chunks
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: fileName, content }]);
    const needles = { marker, fileName, code: answer.code, deleteToken: answer.deleteToken };

    // Blob storage, as Azurite keeps it on disk (extents and its metadata database).
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // let Azurite persist its metadata
    let scanned = 0;
    for await (const path of filesUnder(azurite.location)) {
      if ((await stat(path)).size > 512 * 1024 * 1024) continue;
      const data = await readFile(path);
      scanned += data.length;
      for (const [what, needle] of Object.entries(needles)) {
        expect(data.includes(needle), `${what} found in ${path}`).toBe(false);
      }
    }
    expect(scanned).toBeGreaterThan(content.length); // the scan did see the stored ciphertext

    // Every document of every collection, as extended JSON.
    if (stack.config.metadata.kind !== 'mongodb') throw new Error('this scan reads MongoDB');
    const client = await MongoClient.connect(stack.config.metadata.url);
    onTestFinished(() => client.close());
    const db = client.db(stack.config.metadata.database);
    let documents = 0;
    for (const { name } of await db.listCollections().toArray()) {
      for (const doc of await db.collection(name).find({}).toArray()) {
        documents += 1;
        const text = BSON.EJSON.stringify(doc);
        for (const [what, needle] of Object.entries(needles)) expect(text.includes(needle), `${what} in ${name}`).toBe(false);
      }
    }
    expect(documents).toBeGreaterThan(0);

    // Every Redis key of this stack, with its value (the delayed expiry job lives there).
    const redis = new Redis(stack.config.redis.url);
    try {
      const keys = await redis.keys(`${stack.config.redis.queuePrefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? JSON.stringify(await redis.hgetall(key))
              : type === 'zset'
                ? (await redis.zrange(key, 0, -1)).join()
                : type === 'list'
                  ? (await redis.lrange(key, 0, -1)).join()
                  : '';
        for (const [what, needle] of Object.entries(needles))
          expect(`${key} ${value}`.includes(needle), `${what} in redis ${key}`).toBe(false);
      }
    } finally {
      redis.disconnect();
    }

    // And the file still comes back whole with its name, to the holder of the code.
    const download = await fetch(answer.downloadUrl);
    expect(await download.text()).toBe(content);
    expect(download.headers.get('content-disposition')).toContain(fileName);
  });

  it('never delivers a tampered blob as if whole', async () => {
    const content = randomBytes(300 * 1024);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'whole.bin', content }]);
    if (stack.config.blobs.kind !== 'azure') throw new Error('this test edits an Azure blob');
    const blob = BlobServiceClient.fromConnectionString(stack.config.blobs.connectionString)
      .getContainerClient(stack.config.blobs.container)
      .getBlockBlobClient(`${fileIdForCode(answer.code)}/0`);
    const stored = await blob.downloadToBuffer();
    expect(stored.includes(content.subarray(0, 64))).toBe(false); // ciphertext, not the content
    stored[200_000] = (stored[200_000] ?? 0) ^ 0x01;
    await blob.uploadData(stored);

    const response = await fetch(answer.downloadUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(content.length));
    await expect(response.arrayBuffer()).rejects.toThrow(); // aborted, not ended cleanly
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
      stores: 'scale-out',
      env: {
        AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
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
