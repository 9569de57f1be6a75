import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isFileId } from '@one-time/core';

/** The one queue, its job names and their payloads. Payloads carry file ids (one-way hashes), never codes. */
export const PURGE_QUEUE = 'purge';
/**
 * Why a purge job names one file. 'expired' is no longer enqueued (expiry goes by slot: `expire-due`); it stays
 * so that such jobs left in Redis by an earlier version still run, and are still dropped by `forgetFile`.
 */
export const PURGE_REASONS = ['downloaded', 'expired', 'revoked', 'session-ended'] as const;

/**
 * Files expire in slots of this length: a file is purged at the end of its slot, so an expiry is late by at most
 * this much (plus the purge), and one job covers every file of a slot.
 */
export const EXPIRY_SLOT_MS = 250;

/** The end of the slot holding `expiresAt` (ms since the epoch). */
export function expirySlotEnd(expiresAt: Date): number {
  return Math.ceil(expiresAt.getTime() / EXPIRY_SLOT_MS) * EXPIRY_SLOT_MS;
}

/** One job per slot: adding it again (another upload, another API replica) finds the one already there. */
export function expiryJobId(slotEnd: number): string {
  return `expire-${slotEnd}`;
}

const fileId = z.string().refine(isFileId, 'not a file id');

export const JOB_SCHEMAS = {
  /** Delete one file's blobs, then its record, if it is due. */
  'purge-file': z.object({ fileId, reason: z.enum(PURGE_REASONS) }).strict(),
  /**
   * Purge the files whose expiry falls in the slot ending at `until` (ms since the epoch): one job per slot,
   * whatever the number of files in it, and no file id in Redis. See `PurgeQueue.scheduleExpiry`.
   */
  'expire-due': z.object({ until: z.number().int().nonnegative() }).strict(),
  /** Safety net: purge everything MongoDB says is due. */
  sweep: z.object({}).strict(),
  /** Rare: list blobs and remove those no record knows about. */
  reconcile: z.object({}).strict(),
} as const;

export type JobName = keyof typeof JOB_SCHEMAS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_SCHEMAS)[N]>;
export type PurgeReason = JobPayload<'purge-file'>['reason'];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_SCHEMAS, name);
}

export function parseJob<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return JOB_SCHEMAS[name].parse(data) as JobPayload<N>;
}

/**
 * Deterministic ids, so enqueueing the same purge twice is harmless. They carry a digest of the file id, not the
 * id itself: BullMQ's event stream keeps job ids long after the jobs are gone, and the queue must not keep a
 * purged file's id.
 */
export function purgeJobId(fileId: string, reason: PurgeReason): string {
  const digest = createHash('sha256').update(`one-time/purge-job/${fileId}`).digest('base64url').slice(0, 32);
  return `${reason}-${digest}`;
}

export const SCHEDULER_IDS = { sweep: 'sweeper', reconcile: 'reconciler' } as const;
