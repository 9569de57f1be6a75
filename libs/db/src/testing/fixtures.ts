import { randomBytes } from 'node:crypto';
import type { FilePart } from '@one-time/core';
import type { Claim, FileRepository } from '../file-repository.ts';

/** The repository under test, read when a test runs (each test gets a fresh one). */
export type RepositoryAccess = () => FileRepository;

/** A file id shaped like the real ones (43 base64url characters). */
export function newId(): string {
  return randomBytes(32).toString('base64url');
}

/** A moment relative to the real clock: negative for the past. */
export function minutesFromNow(minutes: number): Date {
  return new Date(Date.now() + minutes * 60_000);
}

export function secondsFromNow(seconds: number): Date {
  return new Date(Date.now() + seconds * 1_000);
}

/** A lease that already ran out: the stream's process is as good as dead. */
export function staleLease(): Date {
  return secondsFromNow(-5);
}

export function freshLease(): Date {
  return minutesFromNow(2);
}

export interface UploadOptions {
  readonly deadline?: Date;
  readonly deleteTokenHash?: string;
}

/** An upload in progress (state `uploading`); returns its id. */
export async function givenUpload(repo: FileRepository, options: UploadOptions = {}): Promise<string> {
  const id = newId();
  await repo.createUpload({
    id,
    deleteTokenHash: options.deleteTokenHash ?? `hash-of-${id}`,
    createdAt: new Date(),
    deadline: options.deadline ?? minutesFromNow(60),
  });
  return id;
}

export interface ReadyOptions {
  readonly downloads?: number;
  readonly expiresAt?: Date;
}

/** A finished upload (state `ready`) with one part; returns its id. */
export async function givenReady(repo: FileRepository, options: ReadyOptions = {}): Promise<string> {
  const id = await givenUpload(repo);
  const part: FilePart = { blob: `${id}/0`, size: 1, meta: 'sealed' };
  await repo.addPart(id, { blob: part.blob });
  const ready = await repo.markReady(id, {
    size: 1,
    parts: [part],
    expiresAt: options.expiresAt ?? minutesFromNow(60),
    downloadsLeft: options.downloads ?? 1,
  });
  if (!ready) throw new Error(`fixture: markReady refused ${id}`);
  return id;
}

/** Claims a download that the test expects to be available. */
export async function mustClaim(repo: FileRepository, id: string, leaseUntil: Date = freshLease()): Promise<Claim> {
  const claim = await repo.claim(id, new Date(), leaseUntil);
  if (!claim) throw new Error(`expected a download of ${id} to be claimable`);
  return claim;
}

/** The record, which the test expects to exist. */
export async function mustFind(repo: FileRepository, id: string) {
  const record = await repo.findById(id);
  if (!record) throw new Error(`expected a record for ${id}`);
  return record;
}

/** The full purge a sweeper runs: begin, then delete. True when this call purged the record. */
export async function purge(repo: FileRepository, id: string, now: Date = new Date()): Promise<boolean> {
  const record = await repo.beginPurge(id, now);
  if (!record) return false;
  await repo.deletePurged(id);
  return true;
}
