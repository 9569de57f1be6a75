export * from './byte-limit.ts';
export * from './download-service.ts';
export * from './infrastructure.ts';
export * from './ports.ts';
export * from './purge-service.ts';
export * from './sweeper.ts';
export * from './upload-service.ts';
export * from './zip-stream.ts';
