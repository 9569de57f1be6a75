import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { AppError, fileIdForCode } from '@one-time/core';
import { purgeJobId } from '@one-time/queue';
import type { BlobStore } from '@one-time/storage';
import { DownloadService, PurgeService } from '@one-time/service';
import { generatedFile, uploadJson } from './support/http.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

const codeOf = (url: string) => url.split('/').pop() ?? '';
const silent = { info() {}, warn() {}, error() {} };

/** A blob store's methods, bound, to override one of them. */
function bound(store: BlobStore): BlobStore {
  return {
    init: () => store.init(),
    write: (name, source, options) => store.write(name, source, options),
    read: (name) => store.read(name),
    delete: (name) => store.delete(name),
    exists: (name) => store.exists(name),
    list: (prefix) => store.list(prefix),
    ping: () => store.ping(),
  };
}

describe('purge safety', () => {
  it('never deletes a blob while it is being streamed; the API purges it itself once the stream ends', async () => {
    const file = generatedFile(8 * 1024 * 1024);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'slow.bin', content: file.stream() }]);
    const id = fileIdForCode(codeOf(answer.downloadUrl));
    const purger = new PurgeService({ files: stack.api.infra.files, blobs: stack.api.infra.blobs });

    const response = await fetch(answer.downloadUrl);
    const reader = response.body!.getReader();
    await reader.read(); // the stream is open and under way
    expect(await purger.purge(id)).toBe('not-due');
    expect(await stack.api.infra.blobs.exists(`${id}/0`)).toBe(true);

    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
    expect(received).toBeGreaterThan(0);
    // This stack has no worker: no job and no sweeper. The API purged the used file right after the stream.
    expect(await eventually(async () => (await stack.tracesOf(id)) === 0, 5_000)).toBe(true);
    expect(await stack.api.infra.blobs.exists(`${id}/0`)).toBe(false);
    expect(await stack.api.infra.purges.queue.getJob(purgeJobId(id, 'downloaded'))).toBeUndefined();
  });

  it('leaves the purge to a job when the purge after the last download fails', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'stuck.txt', content: 'stuck' }]);
    const code = codeOf(answer.downloadUrl);
    const id = fileIdForCode(code);
    const real = stack.api.infra.blobs;
    const undeletable: BlobStore = { ...bound(real), delete: () => Promise.reject(new AppError('STORAGE_UNAVAILABLE')) };
    const { files, purges } = stack.api.infra;
    const downloads = new DownloadService({
      files,
      blobs: real,
      purges,
      purger: new PurgeService({ files, blobs: undeletable }),
      timing: stack.config.timing,
      log: silent,
    });
    const download = await downloads.open(code);
    download.stream.resume();
    await once(download.stream, 'end');
    await download.close(true);

    expect(await purges.queue.getJob(purgeJobId(id, 'downloaded'))).toBeDefined();
    expect(await stack.record(id)).toMatchObject({ state: 'purging' }); // the blob is still there: so is the record
    expect(await new PurgeService({ files, blobs: real }).purge(id)).toBe('purged'); // what the job runs
    expect(await stack.tracesOf(id)).toBe(0);
    await purges.forgetFile(id); // what the purge does once it is done: the job goes with the file
    expect(await purges.queue.getJob(purgeJobId(id, 'downloaded'))).toBeUndefined();
  });

  it('never purges a file with downloads left that has not expired', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'keep.txt', content: 'keep' }], { downloads: '2' });
    const id = fileIdForCode(codeOf(answer.downloadUrl));
    const purger = new PurgeService({ files: stack.api.infra.files, blobs: stack.api.infra.blobs });
    expect(await purger.purge(id)).toBe('not-due');
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('keep');
    expect(await purger.purge(id)).toBe('not-due');
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('keep');
  });

  it('gives the claim back when storage fails before the first byte', async () => {
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'retry.txt', content: 'second chance' }]);
    const code = codeOf(answer.downloadUrl);
    const real = stack.api.infra.blobs;
    let failures = 1;
    const flaky: BlobStore = {
      ...bound(real),
      read: async (name) => {
        if (failures-- > 0) throw new AppError('STORAGE_UNAVAILABLE');
        return real.read(name);
      },
    };
    const downloads = new DownloadService({
      files: stack.api.infra.files,
      blobs: flaky,
      purges: stack.api.infra.purges,
      timing: stack.config.timing,
      log: silent,
    });
    await expect(downloads.open(code)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    const record = await stack.record(fileIdForCode(code));
    expect(record).toMatchObject({ downloadsLeft: 1, activeStreams: 0 });
    expect(await (await fetch(answer.downloadUrl)).text()).toBe('second chance');
  });

  it('checks every part of a zip before answering: storage down gives the claim back, a missing part means gone', async () => {
    const answer = await uploadJson(stack.url, [
      { field: 'file', filename: 'one.txt', content: 'one' },
      { field: 'file', filename: 'two.txt', content: 'two' },
    ]);
    const code = codeOf(answer.downloadUrl);
    const id = fileIdForCode(code);
    const { files, blobs, purges } = stack.api.infra;
    const down: BlobStore = { ...bound(blobs), exists: () => Promise.reject(new AppError('STORAGE_UNAVAILABLE')) };
    const downloads = new DownloadService({ files, blobs: down, purges, timing: stack.config.timing, log: silent });
    await expect(downloads.open(code)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(await stack.record(id)).toMatchObject({ downloadsLeft: 1, activeStreams: 0 });

    await blobs.delete(`${id}/1`); // the second part is lost
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
    expect(await eventually(async () => (await stack.tracesOf(id)) === 0, 5_000)).toBe(true);
  });
});
