import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh, empty folder under the system temp folder; `remove` deletes it and everything in it. */
export function makeTempFolder(): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'one-time-sqlite-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
