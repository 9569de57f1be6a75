import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, addAbortSignal } from 'node:stream';
import { AppError, CoalescedRun } from '@one-time/core';
import type { BlobRead, BlobStore, StoredBlob } from '../blob-store.ts';
import { syncFolder, writeDurably } from './durable-write.ts';
import { closeFd, fstatFd, openFd, readFd, unlinkPath } from './fd-io.ts';
import { errno, io, storageError } from './fs-errors.ts';
import { FlatLayout } from './layout.ts';
import { prepareRoot } from './prepare-root.ts';

export interface FilesystemBlobStoreOptions {
  /** The folder blobs live in, inside the service's data folder; created by `init` if its parent exists. */
  readonly root: string;
}

/**
 * The size of each read of a large blob. Measured on 1 GiB downloads through the API (3 alternating runs each):
 * 512 KiB reads gave 164–205 MiB/s with the API's peak at +49 to +57 MiB over idle; 128 KiB reads 226–267 MiB/s at
 * +27 to +34 MiB; 64 KiB reads 155–212 MiB/s. Each read is a new Buffer; smaller ones die young, before the
 * collector promotes them, and stay in the CPU's cache while they are decrypted. 128 KiB is also 1/8 of the
 * thread-pool trips of 64 KiB reads.
 */
const READ_CHUNK = 128 * 1024;
/** Blobs up to this size are read in one call (see `readWhole`). */
const WHOLE_READ = 64 * 1024;

/**
 * Blobs as files in one local folder (see `FlatLayout`). Writes are atomic and durable (temporary file,
 * fsync, rename, folder fsync). Overlapping writes of one name are refused: names are per upload, so an
 * overlap is a bug, and two writers would otherwise share one partial file.
 *
 * Every blob is in the one folder, so concurrent writes share its fsync (group commit): a write waits for a
 * folder sync that started after its rename, and all the renames before a sync are made durable by it. Under
 * load that is a couple of folder syncs in flight instead of one per write.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly #layout: FlatLayout;
  readonly #writing = new Set<string>();
  readonly #folderSync: CoalescedRun<void>;

  constructor(options: FilesystemBlobStoreOptions) {
    this.#layout = new FlatLayout(options.root);
    this.#folderSync = new CoalescedRun(() => syncFolder(this.#layout.root));
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
      return { size: await writeDurably(files, source, () => this.#folderSync.run(), signal) };
    } catch (error) {
      // Nothing of the blob may remain, not even an earlier version; if the disk refuses even this, the
      // partial file is listed and reconciliation removes it later.
      await Promise.allSettled([unlinkPath(files.partial), unlinkPath(files.final)]);
      throw error;
    } finally {
      this.#writing.delete(name);
    }
  }

  async read(name: string): Promise<BlobRead> {
    const path = this.#layout.files(name).final;
    const fd = await openFd(path, 'r').catch((error: unknown) => {
      throw errno(error) === 'ENOENT' ? new AppError('NOT_FOUND') : storageError(error);
    });
    let whole: Buffer;
    try {
      const head = await readHead(fd);
      if (head.length < HEAD_READ) {
        whole = head;
      } else {
        const size = (await fstatFd(fd)).size;
        if (size > WHOLE_READ) {
          // `end` lets the stream stop without one more read to find the end of the file; it closes the descriptor.
          const stream = createReadStream(path, { fd, start: 0, end: size - 1, highWaterMark: READ_CHUNK, autoClose: true });
          return { stream, size };
        }
        whole = await readWhole(fd, path, size, head);
      }
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      throw errno(error) === 'EISDIR' ? new AppError('NOT_FOUND') : storageError(error);
    }
    // Closed once, here, whatever the outcome: the bytes are read, and a descriptor is never closed twice.
    await closeFd(fd).catch(() => undefined);
    return wholeRead(whole);
  }

  /**
   * The blob, or what a cut-off write left of it. A blob that was written completely has no partial file (the
   * rename took it), so the partial one is looked for only when there is no blob: one unlink per purge.
   */
  async delete(name: string): Promise<void> {
    const [first, ...rest] = this.#layout.removable(name);
    if (first !== undefined && (await removeFile(first))) return;
    await Promise.all(rest.map((path) => removeFile(path)));
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
 * reconciliation removes it again. A file that is not there is not an error; resolves whether there was one.
 */
async function removeFile(path: string): Promise<boolean> {
  return io(() => unlinkPath(path));
}

/**
 * A small blob is usually read whole with one read into a buffer this large, without asking its size first (one
 * trip to the thread pool fewer per download). A file that fills it may be larger: its size is then asked for.
 */
const HEAD_READ = 16 * 1024;

/** The file's first HEAD_READ bytes: the whole file when fewer came. A folder fails with EISDIR. */
async function readHead(fd: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(HEAD_READ);
  let filled = 0;
  while (filled < HEAD_READ) {
    const read = await readFd(fd, buffer.subarray(filled), HEAD_READ - filled, filled);
    if (read === 0) break;
    filled += read;
  }
  return buffer.subarray(0, filled);
}

/** A blob read whole: its bytes, and a stream of them made only if asked for. */
function wholeRead(bytes: Buffer): BlobRead {
  let stream: Readable | undefined;
  return {
    size: bytes.length,
    bytes,
    get stream() {
      stream ??= Readable.from(bytes.length === 0 ? [] : [bytes], { objectMode: false });
      return stream;
    },
  };
}

/**
 * A small blob is read whole, before the answer starts, so its descriptor closes at once: one read instead of a
 * stream on the file, and no descriptor left open while a slow client takes its bytes.
 */
async function readWhole(fd: number, path: string, size: number, head: Buffer): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = head.copy(buffer); // what `readHead` read is not read again
  while (filled < size) {
    const read = await readFd(fd, buffer.subarray(filled), size - filled, filled);
    if (read === 0) throw new Error(`${path} ended after ${filled} of ${size} bytes`);
    filled += read;
  }
  return buffer;
}
