import { open, opendir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { AppError } from '@one-time/core';
import type { BlobRead, BlobStore, StoredBlob } from '../blob-store.ts';
import { writeDurably } from './durable-write.ts';
import { errno, io, storageError } from './fs-errors.ts';
import { FlatLayout } from './layout.ts';
import { prepareRoot } from './prepare-root.ts';

export interface FilesystemBlobStoreOptions {
  /** The folder blobs live in, inside the service's data folder; created by `init` if its parent exists. */
  readonly root: string;
}

/**
 * Downloads are decrypted at several hundred MiB/s: reads of this size keep that to a few hundred trips to
 * the thread pool per second, and a small blob gets a buffer of its own size.
 */
const READ_CHUNK = 512 * 1024;

/**
 * Blobs as files in one local folder (see `FlatLayout`). Writes are atomic and durable (temporary file,
 * fsync, rename, folder fsync). Overlapping writes of one name are refused: names are per upload, so an
 * overlap is a bug, and two writers would otherwise share one partial file.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly #layout: FlatLayout;
  readonly #writing = new Set<string>();

  constructor(options: FilesystemBlobStoreOptions) {
    this.#layout = new FlatLayout(options.root);
  }

  async init(): Promise<void> {
    await prepareRoot(this.#layout.root);
  }

  async write(name: string, source: Readable, options: { signal?: AbortSignal } = {}): Promise<{ size: number }> {
    const files = this.#layout.files(name);
    if (this.#writing.has(name)) throw new Error(`A write of blob ${name} is already in progress.`);
    const { signal } = options;
    this.#writing.add(name);
    try {
      signal?.throwIfAborted();
      // Aborting destroys the source, which also ends a wait for a stalled client.
      if (signal) addAbortSignal(signal, source);
      return { size: await writeDurably(files, source, signal) };
    } catch (error) {
      // Nothing of the blob may remain, not even an earlier version; if the disk refuses even this, the
      // partial file is listed and reconciliation removes it later.
      await Promise.allSettled([unlink(files.partial), unlink(files.final)]);
      throw error;
    } finally {
      this.#writing.delete(name);
    }
  }

  async read(name: string): Promise<BlobRead> {
    const path = this.#layout.files(name).final;
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw errno(error) === 'ENOENT' ? new AppError('NOT_FOUND') : storageError(error);
    });
    try {
      const found = await handle.stat();
      if (!found.isFile()) throw new AppError('NOT_FOUND');
      const size = found.size;
      // `end` lets the stream stop without one more read to find the end of the file.
      const stream = handle.createReadStream({
        start: 0,
        end: Math.max(size - 1, 0),
        highWaterMark: Math.min(READ_CHUNK, Math.max(size, 1)),
      });
      return { stream, size };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw storageError(error);
    }
  }

  async delete(name: string): Promise<void> {
    await Promise.all(this.#layout.removable(name).map((path) => removeFile(path)));
  }

  async exists(name: string): Promise<boolean> {
    const path = this.#layout.files(name).final;
    try {
      return (await stat(path)).isFile();
    } catch (error) {
      if (errno(error) === 'ENOENT') return false;
      throw storageError(error);
    }
  }

  async *list(prefix = ''): AsyncIterable<StoredBlob> {
    const folder = await io(() => opendir(this.#layout.root, { bufferSize: 256 }));
    try {
      for await (const entry of folder) {
        const name = FlatLayout.listedName(entry.name);
        if (!name?.startsWith(prefix) || !entry.isFile()) continue;
        const found = await stat(join(this.#layout.root, entry.name)).catch((error: unknown) => {
          if (errno(error) === 'ENOENT') return undefined; // deleted since the folder was read
          throw error;
        });
        if (found) yield { name, size: found.size, createdOn: found.mtime };
      }
    } catch (error) {
      throw storageError(error);
    }
  }

  async ping(): Promise<void> {
    const found = await io(() => stat(this.#layout.root));
    if (!found.isDirectory()) throw new AppError('STORAGE_UNAVAILABLE', 'The blob folder is not a folder.');
  }
}

/**
 * Unlinks without a folder sync: should a crash undo the unlink, the file comes back without a record and
 * reconciliation removes it again.
 */
async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw storageError(error);
  }
}
