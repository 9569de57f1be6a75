import { constants } from 'node:fs';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, type Config } from '@one-time/core';

/**
 * Checks the embedded stores' folder before anything opens it, so a bad DATA_DIR stops the process with a
 * message naming it instead of failing at the first upload. The default folder is created; a configured one
 * must exist already (a typo must not start an empty store and make every file look gone).
 */
export async function prepareDataDir(dataDir: NonNullable<Config['dataDir']>): Promise<void> {
  const problem = await problemWith(dataDir);
  if (problem) throw new ConfigError([`DATA_DIR: ${dataDir.path} ${problem}`]);
}

async function problemWith({ path, create }: NonNullable<Config['dataDir']>): Promise<string | undefined> {
  if (create) await mkdir(path, { recursive: true, mode: 0o700 }).catch(() => undefined);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) return info.code === 'ENOENT' ? 'does not exist (create it first)' : `cannot be read (${info.code})`;
  if (!info.isDirectory()) return 'is not a folder';
  // Permission bits do not stop root, and a read-only mount stops everyone: only a real write tells.
  const probe = join(path, `.write-test-${randomBytes(6).toString('hex')}`);
  try {
    await access(path, constants.W_OK);
    await writeFile(probe, '');
    await rm(probe);
    return undefined;
  } catch (error) {
    return `is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}
