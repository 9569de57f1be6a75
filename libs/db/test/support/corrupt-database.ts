import { readFileSync, writeFileSync } from 'node:fs';

/** Overwrites every page after the first with garbage: the header still reads, the tables do not. */
export function corruptAllPagesButTheFirst(path: string): void {
  const bytes = readFileSync(path);
  const pageSize = bytes.readUInt16BE(16) === 1 ? 65_536 : bytes.readUInt16BE(16);
  bytes.fill(0xa5, pageSize);
  writeFileSync(path, bytes);
}
