import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '@one-time/core';
import { io } from './fs-errors.ts';
import type { BlobFiles } from './layout.ts';

/**
 * Chunks are gathered into one `writev` of up to this many bytes (or buffers): one trip to the thread pool
 * per MiB rather than per chunk, while memory stays bounded whatever the blob size.
 */
const BATCH_BYTES = 1024 * 1024;
const BATCH_BUFFERS = 256;

/**
 * Streams `source` into the partial file, syncs it, renames it over the final name and syncs the folder, so
 * the blob appears complete or not at all, and survives a power cut once this resolves. Storage failures
 * reject as `AppError`; an error of the source itself (client gone, size cap, abort) is rethrown as is.
 * Cleaning up after a failure is the caller's job.
 */
export async function writeDurably(files: BlobFiles, source: Readable, signal?: AbortSignal): Promise<number> {
  const size = await writeSynced(files.partial, source);
  signal?.throwIfAborted(); // the source may have ended before the abort was noticed
  await io(() => rename(files.partial, files.final));
  await syncFolder(dirname(files.final));
  return size;
}

async function writeSynced(path: string, source: Readable): Promise<number> {
  // 'w' rather than 'wx': a partial file already there is a crash's leftover (overlapping writes of one
  // name are refused before this), and truncating it is what a retry wants.
  const handle = await io(() => open(path, 'w', 0o600));
  let size: number;
  try {
    size = await copy(source, handle);
    await io(() => handle.sync());
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  await io(() => handle.close());
  return size;
}

/** Pulls the source only as fast as the disk takes it: back-pressure comes from awaiting each batch. */
async function copy(source: Readable, handle: FileHandle): Promise<number> {
  let batch: Buffer[] = [];
  let batched = 0;
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    batch.push(bytes);
    batched += bytes.length;
    if (batched >= BATCH_BYTES || batch.length >= BATCH_BUFFERS) {
      await writeAll(handle, batch, batched);
      size += batched;
      batch = [];
      batched = 0;
    }
  }
  await writeAll(handle, batch, batched);
  return size + batched;
}

async function writeAll(handle: FileHandle, buffers: Buffer[], length: number): Promise<void> {
  if (length === 0) return;
  const { bytesWritten } = await io(() => handle.writev(buffers));
  // A short write happens as the disk (or the file size limit) runs out; writing the rest reports why.
  let rest = bytesWritten === length ? Buffer.alloc(0) : Buffer.concat(buffers).subarray(bytesWritten);
  while (rest.length > 0) {
    const { bytesWritten: written } = await io(() => handle.write(rest));
    if (written === 0) throw new AppError('STORAGE_UNAVAILABLE', 'The disk accepted no bytes.');
    rest = rest.subarray(written);
  }
}

/** A rename is durable only once the folder holding it is synced. */
export async function syncFolder(path: string): Promise<void> {
  const folder = await io(() => open(path, 'r'));
  try {
    await io(() => folder.sync());
  } finally {
    await folder.close().catch(() => undefined);
  }
}
