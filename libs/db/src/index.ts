export * from './file-repository.ts';
