import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadJson } from '../support/http.ts';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { restartableAzurite } from './restartable.ts';
import { uploadWith } from './streamed-upload.ts';

const MiB = 1024 * 1024;

/** Blob storage (a private Azurite) goes away during transfers and comes back. */
describe('blob storage outages', () => {
  let azurite: Awaited<ReturnType<typeof restartableAzurite>>;
  let stack: Stack;

  beforeAll(async () => {
    azurite = await restartableAzurite();
    stack = await startStack({
      stores: 'scale-out',
      env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, RECONCILE_INTERVAL: '1s', ORPHAN_GRACE: '1s' },
    });
  });
  afterAll(async () => {
    azurite?.resume();
    await azurite?.start().catch(() => undefined); // already up: the port is taken, which is fine
    await stack?.stop();
    await azurite?.remove();
  });

  it('refuses a download with 503 while storage is down, uses nothing up, and serves it once after recovery', async () => {
    const content = randomBytes(300 * 1024);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'later.bin', content }]);
    await azurite.kill();
    const refused = await fetch(answer.downloadUrl);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
    const [onlyId = ''] = await stack.recordIds();
    const record = await stack.record(onlyId);
    expect(record).toMatchObject({ state: 'ready', downloadsLeft: 1, activeStreams: 0 });

    await azurite.start();
    const first = await fetch(answer.downloadUrl);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(content)).toBe(true);
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
    expect(await eventually(async () => (await stack.recordIds()).length === 0 && (await stack.blobNames()).length === 0)).toBe(
      true,
    );
  });

  it('answers an upload cut by a storage outage with 503, keeps no record, and leaves no blob after recovery', async () => {
    const answer = await uploadWith(stack.url, 24 * MiB, 4 * MiB, () => azurite.kill());
    expect(answer.status).toBe(503);
    expect(answer.body.error?.code).toBe('STORAGE_UNAVAILABLE');
    expect((await stack.recordIds()).length).toBe(0);

    await azurite.start();
    // Staged blocks the aborted upload could not discard while storage was down go at the next reconciliation.
    expect(await eventually(async () => (await stack.blobNames()).length === 0, 20_000)).toBe(true);
    expect((await stack.recordIds()).length).toBe(0);
  });
});
