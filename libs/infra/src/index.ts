export * from './data-dir.ts';
export * from './infrastructure.ts';
export * from './open-stores.ts';
