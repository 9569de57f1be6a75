export * from './connect.ts';
export * from './file-repository.ts';
export * from './mongo-file-repository.ts';
