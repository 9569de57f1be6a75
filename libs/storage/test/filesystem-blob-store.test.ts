import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@one-time/core';
import { FilesystemBlobStore } from '@one-time/storage/filesystem';
import { describeBlobStoreContract, hostileBlobNames, listed, newFileId, readAll } from '@one-time/storage/testing';

const run = promisify(execFile);
const CHILD = join(import.meta.dirname, 'support', 'child-write.ts');
const MiB = 1024 * 1024;

async function freshDataFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'one-time-fs-'));
}

describeBlobStoreContract('FilesystemBlobStore', async () => {
  const data = await freshDataFolder();
  const store = new FilesystemBlobStore({ root: join(data, 'blobs') });
  await store.init();
  return { store, cleanup: () => rm(data, { recursive: true, force: true }) };
});

/** Every entry below `folder` (names of files and folders alike) and the bytes of every file. */
async function scan(folder: string): Promise<{ names: string[]; contents: Buffer[] }> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const names = entries.map((entry) => relative(folder, join(entry.parentPath, entry.name)));
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  return { names, contents: await Promise.all(files.map((file) => readFile(file))) };
}

describe('FilesystemBlobStore on disk', () => {
  let data: string;
  let root: string;
  let store: FilesystemBlobStore;

  beforeEach(async () => {
    data = await freshDataFolder();
    root = join(data, 'blobs');
    store = new FilesystemBlobStore({ root });
    await store.init();
  });
  afterEach(async () => {
    await rm(data, { recursive: true, force: true });
  });

  it('leaves neither the bytes nor the file id of deleted blobs anywhere in the data folder', async () => {
    const fileId = newFileId();
    const parts = [randomBytes(256 * 1024), randomBytes(3 * MiB)];
    for (const [part, content] of parts.entries()) await store.write(`${fileId}/${part}`, Readable.from([content]));
    const cutOff = Readable.from(
      (function* () {
        yield randomBytes(2 * MiB);
        throw new Error('gone');
      })(),
    );
    await expect(store.write(`${fileId}/2`, cutOff)).rejects.toThrow('gone');
    expect((await scan(data)).names.some((name) => name.includes(fileId))).toBe(true); // the scan sees them

    for (const part of [0, 1, 2]) await store.delete(`${fileId}/${part}`);
    const { names, contents } = await scan(data);
    expect(names).toEqual(['blobs']);
    expect(await readdir(root)).toEqual([]);
    for (const content of contents) {
      expect(content.includes(fileId)).toBe(false);
      for (const part of parts) expect(content.includes(part.subarray(1000, 1064))).toBe(false);
    }
  });

  it('lists what a killed writer left under a name delete accepts, and delete removes it', async () => {
    const fileId = newFileId();
    for (const part of [0, 1]) await crashMidWrite(store, root, `${fileId}/${part}`);
    const before = Date.now();
    const leftovers = await listed(store);
    expect(leftovers.map((blob) => blob.name)).toEqual([`${fileId}/0.partial`, `${fileId}/1.partial`]);
    for (const blob of leftovers) {
      expect(blob.name.split('/')[0]).toBe(fileId); // how reconciliation finds the file id
      expect(blob.size).toBe(2 * MiB);
      const { mtime } = await stat(join(root, `${fileId}.${blob.name.split('/')[1]}`));
      expect(blob.createdOn).toEqual(mtime);
      expect(blob.createdOn.getTime()).toBeLessThanOrEqual(before);
    }
    expect(await store.exists(`${fileId}/0`)).toBe(false);
    await expect(store.read(`${fileId}/0`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.read(`${fileId}/0.partial`)).rejects.toBeInstanceOf(TypeError);

    await store.delete(`${fileId}/0`); // the blob name takes its leftover along
    await store.delete(`${fileId}/1.partial`); // as does the listed leftover name
    await store.delete(`${fileId}/1.partial`);
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses hostile names without creating anything anywhere', async () => {
    const nested = join(data, 'a', 'b', 'blobs'); // so `..` chains still land inside the scanned folder
    const deep = new FilesystemBlobStore({ root: nested });
    await mkdir(join(data, 'a', 'b'), { recursive: true });
    await deep.init();
    const fileId = newFileId();
    const before = await scan(data);
    const names = [
      ...hostileBlobNames(fileId),
      `${data}/escaped`,
      `${nested}/${fileId}/0`,
      `../${fileId}/0.partial`,
      `${fileId}/0.partial/..`,
      `${fileId}/../../../escaped.partial`,
      `../../../${fileId}/0`,
    ];
    for (const name of names) {
      await expect(deep.write(name, Readable.from([Buffer.from('evil')])), name).rejects.toBeInstanceOf(TypeError);
      await expect(deep.read(name), name).rejects.toBeInstanceOf(TypeError);
      await expect(deep.exists(name), name).rejects.toBeInstanceOf(TypeError);
      await expect(deep.delete(name), name).rejects.toBeInstanceOf(TypeError);
    }
    for (const odd of [undefined, null, 0, {}, ['a']] as unknown as string[]) {
      await expect(deep.read(odd)).rejects.toBeInstanceOf(TypeError);
      await expect(deep.delete(odd)).rejects.toBeInstanceOf(TypeError);
    }
    expect(await scan(data)).toEqual(before);
  });

  it('refuses a second write of a name while the first is in progress', async () => {
    const name = `${newFileId()}/0`;
    const controller = new AbortController();
    const first = store.write(name, new PassThrough(), { signal: controller.signal }).catch((error: unknown) => error);
    await expect(store.write(name, Readable.from([Buffer.from('x')]))).rejects.toThrow('already in progress');
    controller.abort();
    expect(await first).toMatchObject({ name: 'AbortError' });
    expect(await readdir(root)).toEqual([]);
  });

  it('serves a read already opened even when the blob is deleted meanwhile, in 128 KiB reads', async () => {
    const name = `${newFileId()}/0`;
    const content = randomBytes(3 * MiB);
    await store.write(name, Readable.from([content]));
    const read = await store.read(name);
    await store.delete(name);
    expect(read.stream.readableHighWaterMark).toBe(128 * 1024);
    expect((await readAll(read.stream)).equals(content)).toBe(true);
    expect(await readdir(root)).toEqual([]);
  });

  it('reads a small blob whole: its file is closed before the first byte is taken', async () => {
    const name = `${newFileId()}/0`;
    const content = randomBytes(64 * 1024);
    await store.write(name, Readable.from([content]));
    const before = (await readdir('/proc/self/fd')).length;
    const read = await store.read(name);
    expect((await readdir('/proc/self/fd')).length).toBe(before);
    expect(read.size).toBe(content.length);
    expect((await readAll(read.stream)).equals(content)).toBe(true);
    const larger = `${newFileId()}/0`;
    await store.write(larger, Readable.from([randomBytes(64 * 1024 + 1)]));
    const streamed = await store.read(larger); // a stream on the open file, closed at its end
    expect((await readdir('/proc/self/fd')).length).toBe(before + 1);
    await readAll(streamed.stream);
    await expect.poll(async () => (await readdir('/proc/self/fd')).length).toBe(before);
  });

  it('reads blobs of every size around its read edges (16 KiB head, 64 KiB whole) byte for byte', async () => {
    for (const size of [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 64 * 1024, 64 * 1024 + 1, 200_003]) {
      const name = `${newFileId()}/0`;
      const content = randomBytes(size);
      await store.write(name, Readable.from(size === 0 ? [] : [content]));
      const read = await store.read(name);
      expect({ size, reported: read.size }).toEqual({ size, reported: size });
      expect((await readAll(read.stream)).equals(content)).toBe(true);
    }
  });

  it('reads a folder where a blob should be as a missing blob, and leaves it alone', async () => {
    const fileId = newFileId();
    await mkdir(join(root, `${fileId}.0`));
    await expect(store.read(`${fileId}/0`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await stat(join(root, `${fileId}.0`))).isDirectory()).toBe(true);
  });

  it('deletes what a cut-off write left when there is no blob, and only one file when there is', async () => {
    const fileId = newFileId();
    await writeFile(join(root, `${fileId}.0.partial`), 'left by a crash');
    await store.delete(`${fileId}/0`);
    expect(await readdir(root)).toEqual([]);
    await store.write(`${fileId}/1`, Readable.from([Buffer.from('complete')]));
    await store.delete(`${fileId}/1`);
    expect(await readdir(root)).toEqual([]);
  });

  it('reports a removed folder as STORAGE_UNAVAILABLE', async () => {
    await rm(root, { recursive: true });
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(store.write(`${newFileId()}/0`, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
  });
});

describe('FilesystemBlobStore.init', () => {
  let data: string;
  beforeEach(async () => {
    data = await freshDataFolder();
  });
  afterEach(async () => {
    await rm(data, { recursive: true, force: true });
  });

  async function refusal(root: string): Promise<AppError> {
    const error = await new FilesystemBlobStore({ root }).init().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    return error as AppError;
  }

  it('creates the folder inside an existing parent, only readable by its owner, and can repeat', async () => {
    const store = new FilesystemBlobStore({ root: join(data, 'blobs') });
    await store.init();
    await store.init();
    expect((await stat(join(data, 'blobs'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(data, 'blobs'))).toEqual([]); // the write probe is gone
    await store.ping();
  });

  it('refuses a missing parent, and creates nothing', async () => {
    const root = join(data, 'missing', 'blobs');
    expect((await refusal(root)).message).toBe(
      `The parent folder ${join(data, 'missing')} of the blob folder ${root} is not usable: it does not exist.`,
    );
    expect(await readdir(data)).toEqual([]);
  });

  it('refuses a path that is a file', async () => {
    const root = join(data, 'blobs');
    await writeFile(root, 'not a folder');
    expect((await refusal(root)).message).toBe(`The blob folder ${root} is not usable: it is not a folder.`);
  });

  it('refuses a path below a regular file', async () => {
    await writeFile(join(data, 'file'), 'x');
    expect((await refusal(join(data, 'file', 'blobs'))).message).toBe(
      `The parent folder ${join(data, 'file')} of the blob folder ${join(data, 'file', 'blobs')} is not usable: it is not a folder.`,
    );
    expect((await refusal(join(data, 'file', 'deeper', 'blobs'))).message).toContain(
      `${join(data, 'file', 'deeper')} of the blob folder ${join(data, 'file', 'deeper', 'blobs')} is not usable: part of its path is not a folder.`,
    );
  });

  it('refuses folders that even root cannot write (sysfs)', async () => {
    expect((await refusal('/sys/kernel')).message).toMatch(/^The blob folder \/sys\/kernel is not writable: /);
    expect((await refusal('/sys/one-time-blobs')).message).toMatch(/^The blob folder \/sys\/one-time-blobs cannot be created: /);
  });
});

describe('FilesystemBlobStore on a full disk', () => {
  let data: string;
  beforeEach(async () => {
    data = await freshDataFolder();
  });
  afterEach(async () => {
    await run('umount', [data]).catch(() => undefined);
    await rm(data, { recursive: true, force: true });
  });

  it('fails a write as STORAGE_FULL when the disk fills up mid-write (ENOSPC), leaving no file', async () => {
    // A real, tiny file system: a 2 MiB tmpfs. Should mounting be refused (no CAP_SYS_ADMIN), the same
    // checks run against a file size limit instead, which is real too, but the kernel's EFBIG.
    const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'one-time-test', data]).then(
      () => true,
      () => false,
    );
    if (!mounted) {
      console.warn('tmpfs mount refused here; testing a full disk through RLIMIT_FSIZE instead');
      return expectFullUnderSizeLimit(data);
    }
    const root = join(data, 'blobs');
    const store = new FilesystemBlobStore({ root });
    await store.init();
    const name = `${newFileId()}/0`;
    const error = await store.write(name, Readable.from(zeros(4 * MiB))).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'STORAGE_FULL', cause: { code: 'ENOSPC' } });
    expect(await readdir(root)).toEqual([]);
    // The space of the cut-off write is given back.
    expect(await store.write(name, Readable.from(zeros(MiB)))).toEqual({ size: MiB });
  });

  it('fails a write as STORAGE_FULL when the file size limit is hit mid-write (EFBIG), leaving no file', async () => {
    await expectFullUnderSizeLimit(data);
  });
});

async function expectFullUnderSizeLimit(data: string): Promise<void> {
  const root = join(data, 'blobs');
  await new FilesystemBlobStore({ root }).init();
  // `ulimit -f` counts 512-byte blocks in sh: a 1 MiB limit, for a 4 MiB write.
  const { stdout } = await run('sh', [
    '-c',
    'ulimit -f 2048 && exec "$0" "$@"',
    process.execPath,
    CHILD,
    root,
    `${newFileId()}/0`,
    'fill',
    String(4 * MiB),
  ]);
  expect(JSON.parse(stdout)).toEqual({ name: 'AppError', code: 'STORAGE_FULL', cause: 'EFBIG' });
  expect(await readdir(root)).toEqual([]);
}

function* zeros(size: number): Generator<Buffer> {
  for (let sent = 0; sent < size; sent += 64 * 1024) yield Buffer.alloc(Math.min(64 * 1024, size - sent));
}

/** Starts a write in a child process and kills it (SIGKILL) once 2 MiB sit in its partial file. */
async function crashMidWrite(store: FilesystemBlobStore, root: string, name: string): Promise<void> {
  const child = spawn(process.execPath, [CHILD, root, name, 'stall', String(2 * MiB)], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const written = async () => (await listed(store, name)).some((blob) => blob.size === 2 * MiB);
  try {
    const deadline = Date.now() + 20_000;
    while (!(await written())) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`The child never wrote ${name}.`);
      await sleep(20);
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
