export * from './file-repository-contract.ts';
export * from './fixtures.ts';
