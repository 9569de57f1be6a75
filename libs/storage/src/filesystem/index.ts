export * from './filesystem-blob-store.ts';
