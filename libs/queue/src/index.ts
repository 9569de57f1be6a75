export * from './jobs.ts';
export * from './purge-queue.ts';
export * from './redis.ts';
