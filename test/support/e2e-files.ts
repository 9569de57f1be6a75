import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { generatedFile } from './http.ts';

export interface FileOnDisk {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Writes `size` pseudo-random bytes to `folder/name` as they are generated (never whole in memory). */
export async function writeGeneratedFile(folder: string, name: string, size: number): Promise<FileOnDisk> {
  const file = generatedFile(size);
  const path = join(folder, name);
  await pipeline(file.stream(), createWriteStream(path));
  return { path, size, sha256: file.sha256 };
}

/** SHA-256 of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
