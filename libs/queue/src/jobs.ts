import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isFileId } from '@one-time/core';

/** The one queue, its job names and their payloads. Payloads carry file ids (one-way hashes), never codes. */
export const PURGE_QUEUE = 'purge';
export const PURGE_REASONS = ['downloaded', 'expired', 'revoked', 'session-ended'] as const;

const fileId = z.string().refine(isFileId, 'not a file id');

export const JOB_SCHEMAS = {
  /** Delete one file's blobs, then its record, if it is due. */
  'purge-file': z.object({ fileId, reason: z.enum(PURGE_REASONS) }).strict(),
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
