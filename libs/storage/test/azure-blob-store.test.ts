import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, loadConfig } from '@one-time/core';
import { AzureBlobStore } from '../src/index.ts';

const config = loadConfig({});
const container = `store${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const store = new AzureBlobStore({ connectionString: config.azure.connectionString, container, blockSize: 256 * 1024 });
const raw = BlobServiceClient.fromConnectionString(config.azure.connectionString).getContainerClient(container);

async function allNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of raw.listBlobsFlat({ includeUncommitedBlobs: true })) names.push(blob.name);
  return names;
}

beforeAll(async () => {
  await store.init();
  await store.init(); // idempotent
});
afterAll(async () => {
  await raw.deleteIfExists();
});

describe('AzureBlobStore (on Azurite)', () => {
  it('streams a multi-block blob in and out unchanged', async () => {
    const data = randomBytes(1024 * 1024 + 17);
    expect(await store.write('rt/0', Readable.from([data.subarray(0, 500_000), data.subarray(500_000)]))).toEqual({
      size: data.length,
    });
    const { stream, size } = await store.read('rt/0');
    expect(size).toBe(data.length);
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await store.exists('rt/0')).toBe(true);
  });

  it('leaves nothing, not even uncommitted blocks, when the source fails half way', async () => {
    const failing = Readable.from(
      (function* () {
        for (let i = 0; i < 6; i += 1) yield randomBytes(256 * 1024); // several blocks get staged
        throw new AppError('PAYLOAD_TOO_LARGE');
      })(),
    );
    await expect(store.write('fail/0', failing)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await allNames()).filter((name) => name.startsWith('fail/'))).toEqual([]);
  });

  it('deletes idempotently and lists by prefix', async () => {
    await store.write('ls/0', Readable.from([Buffer.from('a')]));
    await store.write('ls/1', Readable.from([Buffer.from('b')]));
    const listed: string[] = [];
    for await (const blob of store.list('ls/')) listed.push(blob.name);
    expect(listed.sort()).toEqual(['ls/0', 'ls/1']);
    await store.delete('ls/0');
    await store.delete('ls/0');
    await store.delete('never-existed');
    expect(await store.exists('ls/0')).toBe(false);
  });

  it('lists blobs that hold only staged, uncommitted blocks, and deletes them', async () => {
    // What an upload cut off while storage was down leaves behind: reconciliation must see it to remove it.
    await raw.getBlockBlobClient('staged/0').stageBlock(Buffer.from('block-0').toString('base64'), Buffer.from('x'), 1);
    const listed: string[] = [];
    for await (const blob of store.list('staged/')) listed.push(blob.name);
    expect(listed).toEqual(['staged/0']);
    await store.delete('staged/0');
    expect((await allNames()).filter((name) => name.startsWith('staged/'))).toEqual([]);
  });

  it('reports an unreachable store as STORAGE_UNAVAILABLE', async () => {
    const down = new AzureBlobStore({
      connectionString: config.azure.connectionString.replace('127.0.0.1:10000', '127.0.0.1:9'),
      container,
    });
    await expect(down.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(down.read('x')).rejects.toBeInstanceOf(AppError);
  });
});
