import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
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

describe('purge safety', () => {
  it('never deletes a blob while it is being streamed, and purges once the stream ends', async () => {
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
    expect(await eventually(async () => (await stack.record(id))?.activeStreams === 0, 5_000)).toBe(true);
    expect(await purger.purge(id)).toBe('purged');
    expect(await stack.api.infra.blobs.exists(`${id}/0`)).toBe(false);
    expect((await stack.record(id)) ? 1 : 0).toBe(0);
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
      init: () => real.init(),
      write: (name, source, options) => real.write(name, source, options),
      read: async (name) => {
        if (failures-- > 0) {
          const { AppError } = await import('@one-time/core');
          throw new AppError('STORAGE_UNAVAILABLE');
        }
        return real.read(name);
      },
      delete: (name) => real.delete(name),
      exists: (name) => real.exists(name),
      list: (prefix) => real.list(prefix),
      ping: () => real.ping(),
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
});
