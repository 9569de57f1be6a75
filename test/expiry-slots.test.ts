import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileIdForCode } from '@one-time/core';
import { EXPIRY_SLOT_MS, expiryJobId, expirySlotEnd } from '@one-time/queue';
import { uploadJson } from './support/http.ts';
import { eventually, startStack, type Stack } from './support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  // The periodic sweep is put off: only the slots' jobs may purge these files.
  stack = await startStack({ env: { SWEEP_INTERVAL: '1h' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('expiry by slot', () => {
  it('queues one job per slot, naming a time and no file, and purges every file of the slot when it ends', async () => {
    const uploads = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        uploadJson(stack.url, [{ field: 'file', filename: `slot-${i}.txt`, content: `expires ${i}` }], { ttl: '2s' }),
      ),
    );
    const ids = uploads.map((answer) => fileIdForCode(answer.code));
    const slots = [...new Set(uploads.map((answer) => expirySlotEnd(new Date(answer.expiresAt))))];
    // One job for each slot the four expiries fall in (a few: they are uploaded together), not one per file.
    const { queue } = stack.api.infra.purges;
    const delayed = await queue.getDelayed();
    const mine = delayed.filter((job) => slots.some((slot) => job.id === expiryJobId(slot)));
    expect(mine.map((job) => job.id).sort()).toEqual(slots.map(expiryJobId).sort());
    for (const job of mine) {
      expect(job.name).toBe('expire-due');
      expect(job.data).toEqual({ until: Number(job.id?.slice('expire-'.length)) });
    }
    const queued = JSON.stringify(delayed.map((job): unknown[] => [job.id, job.data as unknown]));
    for (const id of ids) expect(queued).not.toContain(id);

    // Each file is gone within its slot's length (plus the purge) after its expiry.
    const lastExpiry = Math.max(...uploads.map((answer) => Date.parse(answer.expiresAt)));
    const gone = await eventually(
      async () => (await Promise.all(ids.map((id) => stack.tracesOf(id)))).every((n) => n === 0),
      15_000,
      50,
    );
    expect(gone).toBe(true);
    expect(Date.now() - lastExpiry).toBeLessThan(EXPIRY_SLOT_MS + 5_000);
    for (const answer of uploads) expect((await fetch(answer.downloadUrl)).status).toBe(404);
    // The jobs completed and were removed.
    for (const slot of slots) expect(await queue.getJob(expiryJobId(slot))).toBeUndefined();
  });
});
