export * from './client.ts';
export * from './one-time-error.ts';
