export * from './client.ts';
export * from './one-time-error.ts';
export * from './safe-file-name.ts';
export type { ResumeOptions } from './resuming-download.ts';
export type { ChunkRetryOptions, Completed, EncryptedUpload } from './encrypted-upload.ts';
export { zipLength, zipWriter, type ZipOptions, type ZipSource, type ZipWriter } from './zip-writer.ts';
