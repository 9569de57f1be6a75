import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blob-store.ts';
import {
  expectNothingUnder,
  expectNotFound,
  hostileBlobNames,
  listed,
  listedNames,
  newBlobName,
  newFileId,
  randomChunks,
  readAll,
  sha256,
  until,
} from './contract-support.ts';

export interface BlobStoreFixture {
  readonly store: BlobStore;
  /** Removes everything the fixture made (a fresh, empty store per test). */
  cleanup(): Promise<void>;
}

type StoreOf = () => BlobStore;

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The behaviour every `BlobStore` adapter owes the service, run against a fresh, empty, initialised store per
 * test. Semantics defined here beyond the port's comments:
 * - a second write of a name replaces the blob once it completes; a failed write of an existing name leaves
 *   nothing under it (the earlier version included), like any failed write;
 * - a refused name rejects with a `TypeError` from every method, before the store is touched;
 * - `list` yields only names of the blob shape; a hostile prefix simply matches nothing.
 */
export function describeBlobStoreContract(name: string, make: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture | undefined;
    const store: StoreOf = () => {
      if (!fixture) throw new Error('The fixture was not made.');
      return fixture.store;
    };
    beforeEach(async () => {
      fixture = await make();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    describeRoundTrips(store);
    describePresence(store);
    describeCutOffWrites(store);
    describeOverwrite(store);
    describePathSafety(store);
    describeConcurrency(store);
  });
}

function describeRoundTrips(store: StoreOf): void {
  it('init can be repeated and ping answers', async () => {
    await store().init();
    await store().ping();
  });

  it('stores a small blob and reads back the same bytes and size', async () => {
    const name = newBlobName();
    const data = randomBytes(KiB);
    expect(await store().write(name, Readable.from([data]))).toEqual({ size: KiB });
    const read = await store().read(name);
    expect(read.size).toBe(KiB);
    expect((await readAll(read.stream)).equals(data)).toBe(true);
    expect(await store().exists(name)).toBe(true);
    // An adapter that read it whole may hand the bytes over as they are: the same ones.
    const again = await store().read(name);
    if (again.bytes) expect(again.bytes.equals(data)).toBe(true);
  });

  it('stores an empty blob', async () => {
    const name = newBlobName();
    expect(await store().write(name, Readable.from([]))).toEqual({ size: 0 });
    const read = await store().read(name);
    expect(read.size).toBe(0);
    expect((await readAll(read.stream)).length).toBe(0);
    expect((await store().read(name)).bytes?.length ?? 0).toBe(0);
  });

  // Odd chunks straddle every internal batch or block edge of an adapter.
  it.each([64 * KiB, 100_003])('streams a multi-MiB blob in %i-byte chunks in and out unchanged', async (chunkSize) => {
    const name = newBlobName(3);
    const size = 5 * MiB + 7;
    const written = createHash('sha256');
    expect(await store().write(name, Readable.from(randomChunks(size, chunkSize, written)))).toEqual({ size });
    const read = await store().read(name);
    expect(read.size).toBe(size);
    expect(await sha256(read.stream)).toBe(written.digest('hex'));
  });
}

function describePresence(store: StoreOf): void {
  it('reads a blob that is not there as NOT_FOUND, before any byte', async () => {
    const name = newBlobName();
    await expectNotFound(store().read(name));
    expect(await store().exists(name)).toBe(false);
  });

  it('deletes idempotently, one part at a time', async () => {
    const fileId = newFileId();
    await store().write(`${fileId}/0`, Readable.from([Buffer.from('zero')]));
    await store().write(`${fileId}/1`, Readable.from([Buffer.from('one')]));
    await store().delete(`${fileId}/0`);
    await store().delete(`${fileId}/0`);
    await store().delete(newBlobName()); // never written
    expect(await store().exists(`${fileId}/0`)).toBe(false);
    await expectNotFound(store().read(`${fileId}/0`));
    expect((await readAll((await store().read(`${fileId}/1`)).stream)).toString()).toBe('one');
    expect(await listedNames(store())).toEqual([`${fileId}/1`]);
  });

  it('lists blobs by prefix, with their size and creation time', async () => {
    const [a, b] = [newFileId(), newFileId()];
    const before = Date.now();
    await store().write(`${a}/0`, Readable.from([Buffer.from('abc')]));
    await store().write(`${a}/1`, Readable.from([Buffer.from('abcde')]));
    await store().write(`${b}/0`, Readable.from([Buffer.from('x')]));
    const ofA = await listed(store(), `${a}/`);
    expect(ofA.map(({ name, size }) => ({ name, size }))).toEqual([
      { name: `${a}/0`, size: 3 },
      { name: `${a}/1`, size: 5 },
    ]);
    for (const blob of ofA) {
      expect(blob.createdOn).toBeInstanceOf(Date);
      expect(Math.abs(blob.createdOn.getTime() - before)).toBeLessThan(60_000);
    }
    expect(await listedNames(store(), `${b}/`)).toEqual([`${b}/0`]);
    expect(await listedNames(store())).toEqual([`${a}/0`, `${a}/1`, `${b}/0`].sort((x, y) => x.localeCompare(y)));
    expect(await listedNames(store(), `${newFileId()}/`)).toEqual([]);
  });
}

function describeCutOffWrites(store: StoreOf): void {
  it('leaves nothing when the source fails half way, and rethrows its error as is', async () => {
    const name = newBlobName();
    const failure = new Error('the client went away');
    const source = Readable.from(
      (function* () {
        yield* randomChunks(6 * 256 * KiB, 256 * KiB);
        throw failure;
      })(),
    );
    await expect(store().write(name, source)).rejects.toBe(failure);
    await expectNothingUnder(store(), name);
  });

  it('leaves nothing when aborted half way, and rejects with an AbortError', async () => {
    const name = newBlobName();
    const controller = new AbortController();
    let sent = 0;
    const source = Readable.from(
      (function* () {
        for (const chunk of randomChunks(16 * MiB, 256 * KiB)) {
          // Not from inside the generator: the abort ends the stream, which cannot end a generator mid-step.
          if ((sent += chunk.length) > 3 * MiB) setImmediate(() => controller.abort());
          yield chunk;
        }
      })(),
    );
    await expect(store().write(name, source, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(sent).toBeLessThan(16 * MiB);
    await expectNothingUnder(store(), name);
  });

  it('refuses a write whose signal is already aborted, leaving nothing', async () => {
    const name = newBlobName();
    const signal = AbortSignal.abort();
    await expect(store().write(name, Readable.from([Buffer.from('late')]), { signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expectNothingUnder(store(), name);
  });

  it('does not show a write under its name before it completes; aborting a stalled one leaves nothing', async () => {
    const name = newBlobName();
    const source = new PassThrough();
    source.write(randomBytes(3 * MiB)); // then the client stalls
    const controller = new AbortController();
    const outcome = store()
      .write(name, source, { signal: controller.signal })
      .then(
        () => 'completed',
        (error: unknown) => error,
      );
    await until(() => source.readableLength === 0 && source.writableLength === 0, 'the store has taken the bytes');
    expect(await store().exists(name)).toBe(false);
    await expectNotFound(store().read(name));
    controller.abort();
    expect(await outcome).toMatchObject({ name: 'AbortError' });
    await expectNothingUnder(store(), name);
  });
}

function describeOverwrite(store: StoreOf): void {
  it('replaces a blob by a second write; a failed third write leaves nothing under the name', async () => {
    const name = newBlobName();
    await store().write(name, Readable.from([Buffer.from('first version')]));
    expect(await store().write(name, Readable.from([Buffer.from('second')]))).toEqual({ size: 6 });
    const read = await store().read(name);
    expect(read.size).toBe(6);
    expect((await readAll(read.stream)).toString()).toBe('second');
    expect((await listed(store(), name)).map(({ name: listedName, size }) => ({ listedName, size }))).toEqual([
      { listedName: name, size: 6 },
    ]);

    const failure = new Error('cut off');
    const failing = Readable.from(
      (function* () {
        yield Buffer.from('third');
        throw failure;
      })(),
    );
    await expect(store().write(name, failing)).rejects.toBe(failure);
    await expectNothingUnder(store(), name);
  });
}

function describePathSafety(store: StoreOf): void {
  it('refuses hostile names from every method with a TypeError, and stores nothing', async () => {
    const fileId = newFileId();
    await store().write(`${fileId}/0`, Readable.from([Buffer.from('mine')]));
    for (const name of hostileBlobNames(fileId)) {
      const shown = JSON.stringify(name);
      await expect(store().write(name, Readable.from([Buffer.from('evil')])), `write ${shown}`).rejects.toBeInstanceOf(TypeError);
      await expect(store().read(name), `read ${shown}`).rejects.toBeInstanceOf(TypeError);
      await expect(store().exists(name), `exists ${shown}`).rejects.toBeInstanceOf(TypeError);
      await expect(store().delete(name), `delete ${shown}`).rejects.toBeInstanceOf(TypeError);
    }
    expect(await listedNames(store())).toEqual([`${fileId}/0`]);
    expect((await readAll((await store().read(`${fileId}/0`)).stream)).toString()).toBe('mine');
    for (const prefix of ['../', '/', '..', '\0']) expect(await listedNames(store(), prefix)).toEqual([]);
  });
}

function describeConcurrency(store: StoreOf): void {
  it('takes 50 parallel writes, reads and deletes of different names', async () => {
    const fileIds = Array.from({ length: 10 }, () => newFileId());
    const blobs = Array.from({ length: 50 }, (_, i) => ({
      name: `${fileIds[i % 10]}/${Math.floor(i / 10)}`,
      data: randomBytes(KiB + i * 997),
    }));
    const sizes = await Promise.all(blobs.map(({ name, data }) => store().write(name, Readable.from([data]))));
    expect(sizes).toEqual(blobs.map(({ data }) => ({ size: data.length })));
    const contents = await Promise.all(blobs.map(async ({ name }) => readAll((await store().read(name)).stream)));
    contents.forEach((content, i) => expect(content.equals(blobs[i]!.data)).toBe(true));
    expect((await listedNames(store())).length).toBe(50);
    await Promise.all(blobs.map(({ name }) => store().delete(name)));
    expect(await listedNames(store())).toEqual([]);

    // Mixed: every name goes through write, read and delete while the others do too.
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const name = newBlobName(i % 3);
        const data = randomBytes(KiB);
        await store().write(name, Readable.from([data]));
        expect((await readAll((await store().read(name)).stream)).equals(data)).toBe(true);
        await store().delete(name);
        expect(await store().exists(name)).toBe(false);
      }),
    );
    expect(await listedNames(store())).toEqual([]);
  });
}
