export * from './client.ts';
export * from './one-time-error.ts';
export * from './safe-file-name.ts';
export type { ResumeOptions } from './resuming-download.ts';
