export * from './sqlite-file-repository.ts';
export { DEFAULT_BUSY_TIMEOUT_MS } from './open-database.ts';
export { DUE_INDEXES } from './schema.ts';
