import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, AZURITE_DEV_CONNECTION_STRING } from '@one-time/core';
import { AzureBlobStore } from '@one-time/storage/azure';
import { describeBlobStoreContract, listedNames, newFileId, randomChunks } from '@one-time/storage/testing';

const service = BlobServiceClient.fromConnectionString(AZURITE_DEV_CONNECTION_STRING);
const freshContainer = () => `store${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
// Small blocks, so the contract's multi-MiB blobs go through many blocks in flight.
const storeIn = (container: string, connectionString = AZURITE_DEV_CONNECTION_STRING) =>
  new AzureBlobStore({ connectionString, container, blockSize: 256 * 1024 });

describeBlobStoreContract('AzureBlobStore on Azurite', async () => {
  const container = freshContainer();
  const store = storeIn(container);
  await store.init();
  return {
    store,
    cleanup: async () => {
      await service.getContainerClient(container).deleteIfExists();
    },
  };
});

describe('AzureBlobStore on Azurite', () => {
  let container: string;
  let raw: ContainerClient;
  let store: AzureBlobStore;

  beforeEach(async () => {
    container = freshContainer();
    raw = service.getContainerClient(container);
    store = storeIn(container);
    await store.init();
  });
  afterEach(async () => {
    await raw.deleteIfExists();
  });

  /** Everything in the container, uncommitted blocks included, whatever the name. */
  async function rawNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const blob of raw.listBlobsFlat({ includeUncommitedBlobs: true })) names.push(blob.name);
    return names;
  }

  it('leaves no uncommitted blocks when the source fails after several blocks were staged', async () => {
    const failing = Readable.from(
      (function* () {
        yield* randomChunks(6 * 256 * 1024, 256 * 1024);
        throw new AppError('PAYLOAD_TOO_LARGE');
      })(),
    );
    await expect(store.write(`${newFileId()}/0`, failing)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await rawNames()).toEqual([]);
  });

  it('lists a blob holding only staged, uncommitted blocks, which neither exists nor reads, and deletes it', async () => {
    // What an upload cut off while storage was down leaves behind: reconciliation must see it to remove it.
    const name = `${newFileId()}/0`;
    await raw.getBlockBlobClient(name).stageBlock(Buffer.from('block-0').toString('base64'), Buffer.from('x'), 1);
    expect(await listedNames(store)).toEqual([name]);
    expect(await store.exists(name)).toBe(false);
    await expect(store.read(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.delete(name);
    expect(await rawNames()).toEqual([]);
  });

  it('neither lists nor touches blobs of another shape in the container', async () => {
    for (const foreign of ['stray/0', 'notes.txt', `${newFileId()}/0/extra`])
      await raw.getBlockBlobClient(foreign).upload('x', 1);
    expect(await listedNames(store)).toEqual([]);
    expect((await rawNames()).length).toBe(3);
  });

  it('reads from a container that was never created as STORAGE_UNAVAILABLE, not NOT_FOUND', async () => {
    const unset = storeIn(freshContainer());
    await expect(unset.read(`${newFileId()}/0`)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('reports an unreachable store as STORAGE_UNAVAILABLE', async () => {
    const down = storeIn(container, AZURITE_DEV_CONNECTION_STRING.replace('127.0.0.1:10000', '127.0.0.1:9'));
    const name = `${newFileId()}/0`;
    await expect(down.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(down.read(name)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(down.exists(name)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(down.write(name, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(listedNames(down)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });
});
