import { randomBytes } from 'node:crypto';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '@one-time/core';
import { errno, reason } from './fs-errors.ts';

/**
 * Makes sure the blob folder exists and takes files, or says precisely why not. The folder is created only
 * inside an existing parent: a missing parent means a wrong setting or an unmounted volume, which creating
 * folders would hide.
 */
export async function prepareRoot(root: string): Promise<void> {
  const parent = dirname(root);
  await expectFolder(parent, `The parent folder ${parent} of the blob folder ${root}`);
  await mkdir(root, { mode: 0o700 }).catch((error: unknown) => {
    if (errno(error) !== 'EEXIST') throw unusable(`The blob folder ${root} cannot be created: ${reason(error)}.`, error);
  });
  await expectFolder(root, `The blob folder ${root}`);
  await probeWritable(root);
}

async function expectFolder(path: string, what: string): Promise<void> {
  const found = await stat(path).catch((error: unknown) => {
    throw unusable(`${what} is not usable: ${reason(error)}.`, error);
  });
  if (!found.isDirectory()) throw unusable(`${what} is not usable: it is not a folder.`);
}

/** Permission bits do not stop root, a read-only mount does: only creating a file tells. */
async function probeWritable(root: string): Promise<void> {
  // A dot name never matches a blob file, so a probe a crash leaves behind is not mistaken for one.
  const probe = join(root, `.probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx', 0o600);
    await handle.close();
    await unlink(probe);
  } catch (error) {
    throw unusable(`The blob folder ${root} is not writable: ${reason(error)}.`, error);
  }
}

function unusable(message: string, cause?: unknown): AppError {
  return new AppError('STORAGE_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}
