import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedFile, uploadJson } from '../support/http.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { uploadWith } from './streamed-upload.ts';

const MiB = 1024 * 1024;

/** Everything below a folder, as relative paths: what a person would see with `find`. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1));
}

/** The embedded stores on a real, small filesystem (a 4 MiB tmpfs) that an upload fills up. */
describe('the data folder fills up in the middle of an upload', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'one-time-full-'));
  const mount = join(scratch, 'mnt');
  const dataDir = join(mount, 'store');
  let stack: Stack;

  beforeAll(async () => {
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
    mkdirSync(dataDir);
    stack = await startStack({ stores: 'embedded', env: { DATA_DIR: dataDir } });
  });
  afterAll(async () => {
    await stack?.stop();
    execFileSync('umount', [mount]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('answers 507 STORAGE_FULL in JSON, keeps no record and no partial file, and works again once there is room', async () => {
    const answer = await uploadWith(stack.url, 16 * MiB, 1 * MiB, () => Promise.resolve());
    expect(answer.status).toBe(507);
    expect(answer.body.error?.code).toBe('STORAGE_FULL');
    expect(answer.body.error?.message).toMatch(/storage is full/i);

    expect(await stack.recordIds()).toEqual([]);
    expect(await stack.blobNames()).toEqual([]);
    expect(filesUnder(join(dataDir, 'blobs'))).toEqual([]);

    const small = generatedFile(256 * 1024);
    const stored = await uploadJson(stack.url, [{ field: 'file', filename: 'fits.bin', content: small.stream() }]);
    expect(stored.size).toBe(small.size);
  });
});
