export * from './connect.ts';
export * from './mongo-file-repository.ts';
export { WRITE_LOCKS_COLLECTION } from './document-write-locks.ts';
