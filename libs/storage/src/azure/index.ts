export * from './azure-blob-store.ts';
