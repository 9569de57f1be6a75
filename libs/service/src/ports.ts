import type { PurgeReason } from '@one-time/queue';

/** What the services need from the queue; `PurgeQueue` provides it. */
export interface PurgeScheduler {
  enqueuePurge(fileId: string, reason: PurgeReason, delayMs?: number): Promise<void>;
  /** Has the file purged once `expiresAt` has passed (with every other file expiring about then). */
  scheduleExpiry(expiresAt: Date): Promise<void>;
  /** Drops every job still waiting for a purged file (a delayed expiry, say), so the queue keeps no trace of it. */
  forgetFile(fileId: string): Promise<void>;
}

/** A structured logger (pino's shape). Never handed a code or a delete token. */
export interface Log {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/**
 * Counters the services feed and the apps back with Prometheus metrics. Never given a code or anything derived
 * from one: only sizes and fixed labels.
 */
export interface UploadMetrics {
  /** Plaintext bytes that came in for one part, whether the part was then kept or refused. */
  bytesIn(bytes: number): void;
}

/** Why a purged file was due: used up, its time ran out (or it was revoked), or its upload never finished. */
export type PurgeCause = 'downloaded' | 'expired' | 'abandoned';

export interface PurgeMetrics {
  purged(cause: PurgeCause): void;
}
