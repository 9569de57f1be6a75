export * from './blob-store-contract.ts';
export * from './contract-support.ts';
