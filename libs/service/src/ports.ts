import type { PurgeReason } from '@one-time/queue';

/** What the services need from the queue; `PurgeQueue` provides it. */
export interface PurgeScheduler {
  enqueuePurge(fileId: string, reason: PurgeReason, delayMs?: number): Promise<void>;
}

/** A structured logger (pino's shape). Never handed a code or a delete token. */
export interface Log {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
