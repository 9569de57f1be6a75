export * from './chunk-slots.ts';
export * from './sealed-box.ts';
export * from './secret-stream.ts';
