export * from './sealed-box.ts';
export * from './secret-stream.ts';
