import type { Readable } from 'node:stream';
import { AppError } from '@one-time/core';
import { closeFd, fdatasyncFd, fsyncFd, openFd, renamePath, writeFd, writevFd } from './fd-io.ts';
import { io, storageError } from './fs-errors.ts';
import type { BlobFiles } from './layout.ts';

/**
 * Chunks are gathered into one `writev` of up to this many bytes (or buffers): one trip to the thread pool
 * per MiB rather than per chunk, while memory stays bounded whatever the blob size.
 */
const BATCH_BYTES = 1024 * 1024;
const BATCH_BUFFERS = 256;

/**
 * Streams `source` into the partial file, syncs it, renames it over the final name and syncs the folder
 * (`syncFolder`, which may share one sync among concurrent writes), so the blob appears complete or not at
 * all, and survives a power cut once this resolves. Storage failures reject as `AppError`; an error of the
 * source itself (client gone, size cap, abort) is rethrown as is. Cleaning up after a failure is the caller's job.
 */
export async function writeDurably(
  files: BlobFiles,
  source: Readable,
  syncFolder: () => Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  const size = await writeSynced(files.partial, source);
  signal?.throwIfAborted(); // the source may have ended before the abort was noticed
  await io(() => renamePath(files.partial, files.final));
  await syncFolder();
  return size;
}

async function writeSynced(path: string, source: Readable): Promise<number> {
  // 'w' rather than 'wx': a partial file already there is a crash's leftover (overlapping writes of one
  // name are refused before this), and truncating it is what a retry wants.
  const fd = await io(() => openFd(path, 'w', 0o600));
  const flush = new BackgroundFlush(fd);
  let size: number;
  try {
    size = await copy(source, fd, flush);
    await flush.settle();
    await io(() => fsyncFd(fd));
  } catch (error) {
    await flush.settle().catch(() => undefined);
    await closeFd(fd).catch(() => undefined);
    throw error;
  }
  await io(() => closeFd(fd));
  return size;
}

/**
 * Pulls the source only as fast as the disk takes it: back-pressure comes from awaiting the batch in flight.
 * One batch is written while the next is gathered (never more than one in flight), so receiving, decrypting
 * and sealing go on while the thread pool copies the previous MiB into the page cache (1 GiB uploads through the
 * API: 168 → 191 MiB/s on average over 6 alternating runs).
 */
async function copy(source: Readable, fd: number, flush: BackgroundFlush): Promise<number> {
  let batch: Buffer[] = [];
  let batched = 0;
  let size = 0;
  let inFlight: Promise<Failure> = Promise.resolve(undefined);
  const throwIfFailed = async (): Promise<void> => {
    const failure = await inFlight;
    if (failure) throw failure.error;
  };
  try {
    for await (const chunk of source as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      batch.push(bytes);
      batched += bytes.length;
      if (batched >= BATCH_BYTES || batch.length >= BATCH_BUFFERS) {
        await throwIfFailed();
        inFlight = writeBatch(fd, batch, batched, flush);
        size += batched;
        batch = [];
        batched = 0;
      }
    }
  } finally {
    await inFlight; // never leave a write running under the caller: it closes the descriptor next
  }
  await throwIfFailed();
  await writeAll(fd, batch, batched);
  return size + batched;
}

/** What a batch write that failed left behind; undefined when it succeeded. */
type Failure = { readonly error: unknown } | undefined;

/**
 * A batch write that resolves with its failure instead of rejecting: it runs while nobody awaits it yet, and a
 * rejection nobody awaits would end the process.
 */
async function writeBatch(fd: number, buffers: Buffer[], length: number, flush: BackgroundFlush): Promise<Failure> {
  try {
    await writeAll(fd, buffers, length);
    flush.wrote(length);
    return undefined;
  } catch (error) {
    return { error };
  }
}

async function writeAll(fd: number, buffers: Buffer[], length: number): Promise<void> {
  if (length === 0) return;
  const bytesWritten = await io(() => writevFd(fd, buffers));
  // A short write happens as the disk (or the file size limit) runs out; writing the rest reports why.
  let rest = bytesWritten === length ? Buffer.alloc(0) : Buffer.concat(buffers).subarray(bytesWritten);
  while (rest.length > 0) {
    const written = await io(() => writeFd(fd, rest));
    if (written === 0) throw new AppError('STORAGE_UNAVAILABLE', 'The disk accepted no bytes.');
    rest = rest.subarray(written);
  }
}

/**
 * Large writes hand their data to the disk as they go. The kernel would otherwise keep it all in the page
 * cache until the final fsync (its background writeback starts at 10 % of memory: gigabytes here), so that one
 * fsync would write the whole file after the last byte arrived, and the upload would take the network time
 * PLUS the disk time. Every FLUSH_EVERY_BYTES a datasync starts (one at a time, not awaited by the writes), so
 * the disk works while the data streams in and the final fsync finds little left to write.
 */
const FLUSH_EVERY_BYTES = 16 * 1024 * 1024;

class BackgroundFlush {
  readonly #fd: number;
  #sinceLast = 0;
  #running: Promise<void> | undefined;
  #failure: unknown;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Counts written bytes; starts a datasync when enough piled up and none is running. Throws a failed one. */
  wrote(bytes: number): void {
    if (this.#failure !== undefined) throw storageError(this.#failure);
    this.#sinceLast += bytes;
    if (this.#sinceLast < FLUSH_EVERY_BYTES || this.#running) return;
    this.#sinceLast = 0;
    this.#running = fdatasyncFd(this.#fd).then(
      () => {
        this.#running = undefined;
      },
      (error: unknown) => {
        this.#running = undefined;
        this.#failure = error;
      },
    );
  }

  /** Waits for the datasync in flight (the descriptor must not close under it); throws if one failed. */
  async settle(): Promise<void> {
    await this.#running;
    if (this.#failure !== undefined) throw storageError(this.#failure);
  }
}

/** A rename is durable only once the folder holding it is synced. */
export async function syncFolder(path: string): Promise<void> {
  const fd = await io(() => openFd(path, 'r'));
  try {
    await io(() => fsyncFd(fd));
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}
