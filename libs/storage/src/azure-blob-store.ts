import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob';
import { AppError } from '@one-time/core';
import type { BlobRead, BlobStore, StoredBlob } from './blob-store.ts';

export interface AzureBlobStoreOptions {
  readonly connectionString: string;
  readonly container: string;
  /**
   * Block size and blocks in flight per upload. Peak memory per upload is about their product, independent of
   * the file size; 4 MiB × 4 keeps Azurite (the local ceiling) saturated.
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
    this.#blockSize = options.blockSize ?? 4 * 1024 * 1024;
    this.#concurrency = options.concurrency ?? 4;
  }

  async init(): Promise<void> {
    await guard(() => this.#container.createIfNotExists());
  }

  async write(name: string, source: Readable, options: { signal?: AbortSignal } = {}): Promise<{ size: number }> {
    const blob = this.#container.getBlockBlobClient(name);
    let size = 0;
    const counted = new PassThrough({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    let sourceError: unknown;
    const piping = pipeline(source, counted).catch((error: unknown) => {
      sourceError = error;
    });
    try {
      await blob.uploadStream(counted, this.#blockSize, this.#concurrency, {
        ...(options.signal ? { abortSignal: options.signal } : {}),
      });
      await piping;
      if (sourceError !== undefined) throw sourceError;
      return { size };
    } catch (error) {
      counted.destroy();
      await piping;
      await this.#discard(name).catch(() => undefined);
      // A failing source (client gone, size cap hit) explains the failure better than the upload's own error.
      throw sourceError ?? storageError(error);
    }
  }

  async read(name: string): Promise<BlobRead> {
    const response = await guard(() => this.#container.getBlobClient(name).download(0, undefined, { maxRetryRequests: 3 }));
    const stream = response.readableStreamBody as Readable | undefined;
    if (!stream) throw new AppError('STORAGE_UNAVAILABLE', 'Blob storage answered without a body.');
    return { stream, size: response.contentLength ?? 0 };
  }

  async delete(name: string): Promise<void> {
    await this.#discard(name);
  }

  async exists(name: string): Promise<boolean> {
    return guard(() => this.#container.getBlobClient(name).exists());
  }

  async *list(prefix?: string): AsyncIterable<StoredBlob> {
    try {
      for await (const item of this.#container.listBlobsFlat(prefix ? { prefix } : {})) {
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

function storageError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
}
