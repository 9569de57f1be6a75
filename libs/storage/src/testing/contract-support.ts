import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { expect } from 'vitest';
import { AppError } from '@one-time/core';
import type { BlobStore } from '../blob-store.ts';

/** A file id of the real shape: 32 random bytes, 43 characters of URL-safe base64. */
export function newFileId(): string {
  return randomBytes(32).toString('base64url');
}

export function newBlobName(part = 0): string {
  return `${newFileId()}/${part}`;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function listed(store: BlobStore, prefix?: string): Promise<Array<{ name: string; size: number; createdOn: Date }>> {
  const blobs = [];
  for await (const blob of store.list(prefix)) blobs.push(blob);
  return blobs.sort((a, b) => a.name.localeCompare(b.name));
}

export async function listedNames(store: BlobStore, prefix?: string): Promise<string[]> {
  return (await listed(store, prefix)).map((blob) => blob.name);
}

/** `size` random bytes in chunks, hashed as they are produced, so a large blob is never held whole. */
export function randomChunks(size: number, chunkSize: number, hash = createHash('sha256')) {
  return (function* () {
    for (let sent = 0; sent < size; sent += chunkSize) {
      const chunk = randomBytes(Math.min(chunkSize, size - sent));
      hash.update(chunk);
      yield chunk;
    }
  })();
}

export async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

/** Nothing of a blob is left: not readable, not present, and nothing (not even a leftover) listed under its file id. */
export async function expectNothingUnder(store: BlobStore, name: string): Promise<void> {
  expect(await store.exists(name)).toBe(false);
  await expect(store.read(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  expect(await listedNames(store, `${name.split('/')[0]}/`)).toEqual([]);
}

export async function expectNotFound(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(AppError);
  await expect(promise).rejects.toMatchObject({ code: 'NOT_FOUND' });
}

/** Waits until a test's condition holds, or fails the test. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
    await sleep(10);
  }
}

/**
 * Names a store must refuse: traversal, absolute paths, separators of every kind, NUL, control and
 * look-alike characters, wrong lengths, and parts that are not plain digits. None would do harm if a store
 * wrongly accepted it (no absolute path names a real file), so a failing check breaks nothing.
 */
export function hostileBlobNames(fileId: string): string[] {
  const id42 = fileId.slice(0, 42);
  return [
    ...['', '.', '..', '/', '//', '0', '\0', fileId, `${fileId}/`, `/${fileId}/0`, `${fileId}/0/`, `${fileId}//0`],
    ...[`${fileId}/0/1`, `${fileId}/../0`, `../${fileId}/0`, `${fileId}/0/..`, `${fileId}/./0`, `./${fileId}/0`],
    ...[`../../../${fileId}.0`, `..%2f${fileId}/0`, `%2e%2e/${fileId}/0`, `~/${fileId}/0`, `${fileId}:0`],
    ...[`${fileId}\\0`, `..\\${fileId}\\0`, `C:\\${fileId}\\0`, `${fileId}/0\0`, `${fileId}\0/0`, `${id42}\0/0`],
    ...[`${fileId}/0\n`, `\n${fileId}/0`, ` ${fileId}/0`, `${fileId}/0 `, `${fileId}/\t0`],
    ...[`${fileId}/-1`, `${fileId}/+1`, `${fileId}/1.5`, `${fileId}/0x1`, `${fileId}/1e3`, `${fileId}/\u0661`],
    ...[`${fileId}/1234567890`, `${fileId.slice(1)}/0`, `${fileId}A/0`, `${id42}./0`, `${id42}=/0`, `${id42}+/0`],
    ...[`${id42}\u00e9/0`, `${id42}\uff21/0`, `${fileId}.0`, `${fileId}/0.tmp/..`, `${fileId}/0/../../x`],
  ];
}
