import { z } from 'zod';
import { isFileId } from '@one-time/core';

/** The one queue, its job names and their payloads. Payloads carry file ids (one-way hashes), never codes. */
export const PURGE_QUEUE = 'purge';

const fileId = z.string().refine(isFileId, 'not a file id');

export const JOB_SCHEMAS = {
  /** Delete one file's blobs, then its record, if it is due. */
  'purge-file': z.object({ fileId, reason: z.enum(['downloaded', 'expired', 'revoked']) }).strict(),
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

/** Deterministic ids: enqueueing the same purge twice is harmless. */
export function purgeJobId(fileId: string, reason: PurgeReason): string {
  return `${reason}-${fileId}`;
}

export const SCHEDULER_IDS = { sweep: 'sweeper', reconcile: 'reconciler' } as const;
