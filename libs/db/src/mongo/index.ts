export * from './connect.ts';
export * from './mongo-file-repository.ts';
