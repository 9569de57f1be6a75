import { addAbortSignal, type Readable } from 'node:stream';
import { BlobServiceClient, RestError, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { AppError } from '@one-time/core';
import { assertBlobName, isBlobName, isBlobNamePrefix } from '../blob-name.ts';
import type { BlobRead, BlobStore, StoredBlob } from '../blob-store.ts';

export interface AzureBlobStoreOptions {
  readonly connectionString: string;
  readonly container: string;
  /**
   * Block size and blocks in flight per upload. Peak memory per upload is about their product, independent of
   * the file size; 2 MiB × 4 keeps Azurite (the local ceiling) saturated.
   */
  readonly blockSize?: number;
  readonly concurrency?: number;
}

/** Azure Blob Storage (or Azurite) behind the `BlobStore` interface. */
export class AzureBlobStore implements BlobStore {
  readonly #container: ContainerClient;
  readonly #blockSize: number;
  readonly #concurrency: number;

  constructor(options: AzureBlobStoreOptions) {
    const service = BlobServiceClient.fromConnectionString(options.connectionString, {
      retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
    });
    this.#container = service.getContainerClient(options.container);
    this.#blockSize = options.blockSize ?? 2 * 1024 * 1024;
    this.#concurrency = options.concurrency ?? 4;
  }

  async init(): Promise<void> {
    await guard(() => this.#container.createIfNotExists());
  }

  async write(name: string, source: Readable, options: { signal?: AbortSignal } = {}): Promise<{ size: number }> {
    assertBlobName(name);
    const blob = this.#container.getBlockBlobClient(name);
    const staged = new BlockStager(blob, this.#blockSize, this.#concurrency);
    try {
      options.signal?.throwIfAborted();
      // Aborting destroys the source, which also ends a wait for a stalled client. Requests already sent are
      // not aborted: one cut off on this side may still land on the server after the cleanup below.
      if (options.signal) addAbortSignal(options.signal, source);
      let block = staged.take();
      let filled = 0;
      for await (const chunk of source) {
        let data = chunk as Buffer;
        while (data.length > 0) {
          const copied = data.copy(block, filled);
          filled += copied;
          data = data.subarray(copied);
          if (filled === block.length) {
            await staged.add(block, filled);
            block = staged.take();
            filled = 0;
          }
        }
      }
      if (filled > 0) await staged.add(block, filled);
      options.signal?.throwIfAborted(); // the source may have ended before the abort was noticed
      await staged.commit();
      return { size: staged.size };
    } catch (error) {
      // No block may still be in flight when the blob is discarded, or it would land afterwards.
      await staged.settle();
      await this.#discard(name).catch(() => undefined);
      throw error instanceof AppError || isSourceError(error, source) ? error : storageError(error);
    }
  }

  async read(name: string): Promise<BlobRead> {
    assertBlobName(name);
    const response = await this.#container
      .getBlobClient(name)
      .download(0, undefined, { maxRetryRequests: 3 })
      .catch((error: unknown) => {
        throw isMissingBlob(error) ? new AppError('NOT_FOUND') : storageError(error);
      });
    const stream = response.readableStreamBody as Readable | undefined;
    if (!stream) throw new AppError('STORAGE_UNAVAILABLE', 'Blob storage answered without a body.');
    return { stream, size: response.contentLength ?? 0 };
  }

  async delete(name: string): Promise<void> {
    assertBlobName(name);
    await this.#discard(name);
  }

  async exists(name: string): Promise<boolean> {
    assertBlobName(name);
    return guard(() => this.#container.getBlobClient(name).exists());
  }

  async *list(prefix?: string): AsyncIterable<StoredBlob> {
    if (prefix && !isBlobNamePrefix(prefix)) return; // matches nothing, and is not sent (Azurite fails on some)
    try {
      // Uncommitted ones too: an upload cut off while storage was down leaves staged blocks that only a later
      // reconcile can discard (Azure would keep them for a week). Names of another shape are not ours: they
      // are neither listed nor, since `delete` would refuse them, touched.
      for await (const item of this.#container.listBlobsFlat({ includeUncommitedBlobs: true, ...(prefix ? { prefix } : {}) })) {
        if (!isBlobName(item.name)) continue;
        yield {
          name: item.name,
          size: item.properties.contentLength ?? 0,
          createdOn: item.properties.createdOn ?? item.properties.lastModified,
        };
      }
    } catch (error) {
      throw storageError(error);
    }
  }

  async ping(): Promise<void> {
    await guard(() => this.#container.getProperties());
  }

  /**
   * An aborted upload leaves staged, uncommitted blocks that a plain delete cannot reach (there is no blob
   * yet). Committing an empty block list discards them and creates an empty blob, which is then deleted.
   */
  async #discard(name: string): Promise<void> {
    const blob = this.#container.getBlockBlobClient(name);
    await guard(async () => {
      const blocks = await blob.getBlockList('uncommitted').catch((error: unknown) => {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      });
      if (blocks && (blocks.uncommittedBlocks?.length ?? 0) > 0) await blob.commitBlockList([]);
      await blob.deleteIfExists({ deleteSnapshots: 'include' });
    });
  }
}

async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw storageError(error);
  }
}

function storageError(error: unknown): Error {
  if (error instanceof AppError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
}

/**
 * Stages blocks with at most `concurrency` requests in flight (back-pressure on the source), then commits
 * them. Block buffers come from a fixed pool and are reused, so an upload allocates `concurrency + 1` blocks
 * whatever its size (no garbage for the GC to catch up with). Unlike the SDK's `uploadStream`, it can wait
 * for every request it started before the caller cleans up.
 */
class BlockStager {
  readonly #blob: BlockBlobClient;
  readonly #blockSize: number;
  readonly #concurrency: number;
  readonly #ids: string[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #free: Buffer[] = [];
  #allocated = 0;
  size = 0;

  constructor(blob: BlockBlobClient, blockSize: number, concurrency: number) {
    this.#blob = blob;
    this.#blockSize = blockSize;
    this.#concurrency = concurrency;
  }

  /** A block buffer to fill; `add` never leaves more than `concurrency` in use, so the pool suffices. */
  take(): Buffer {
    const reused = this.#free.pop();
    if (reused) return reused;
    if (this.#allocated > this.#concurrency) throw new Error('block pool exhausted');
    this.#allocated += 1;
    return Buffer.allocUnsafe(this.#blockSize);
  }

  async add(block: Buffer, length: number): Promise<void> {
    const id = Buffer.from(String(this.#ids.length).padStart(8, '0')).toString('base64');
    this.#ids.push(id);
    this.size += length;
    const request = this.#blob.stageBlock(id, block.subarray(0, length), length).then(() => undefined);
    this.#inFlight.add(request);
    void request
      .catch(() => undefined)
      .finally(() => {
        this.#inFlight.delete(request);
        this.#free.push(block);
      });
    while (this.#inFlight.size >= this.#concurrency) await Promise.race(this.#inFlight);
  }

  async commit(): Promise<void> {
    await Promise.all(this.#inFlight);
    await this.#blob.commitBlockList(this.#ids);
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }
}

/** The blob is not there (or holds only uncommitted blocks); a missing container is a store not set up. */
function isMissingBlob(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404 && error.code === 'BlobNotFound';
}

/** A failure of the stream being stored (client gone, size cap) rather than of storage. */
function isSourceError(error: unknown, source: Readable): boolean {
  return source.errored !== null && source.errored === error;
}
