import { describe, expect, it } from 'vitest';
import { givenReady, givenUpload, minutesFromNow, mustFind, newId, type RepositoryAccess } from '../fixtures.ts';

/** uploading → ready, and what the upload steps refuse once the upload is gone. */
export function describeLifecycle(repo: RepositoryAccess): void {
  describe('upload lifecycle', () => {
    it('writes a new upload as `uploading`, nothing downloadable yet', async () => {
      const id = newId();
      const createdAt = new Date();
      const deadline = minutesFromNow(30);
      await repo().createUpload({ id, deleteTokenHash: 'token-hash', createdAt, deadline });
      expect(await repo().findById(id)).toEqual({
        id,
        state: 'uploading',
        parts: [],
        size: 0,
        createdAt,
        expiresAt: deadline,
        downloadsLeft: 0,
        activeStreams: 0,
        leaseUntil: null,
        deleteTokenHash: 'token-hash',
      });
    });

    it('writes the parts a new upload lists from the start, in order', async () => {
      const id = newId();
      const parts = [{ blob: `${id}/0`, meta: 'sealed-0' }, { blob: `${id}/1` }, { blob: `${id}/2` }];
      await repo().createUpload({ id, deleteTokenHash: 'h', createdAt: new Date(), deadline: minutesFromNow(5), parts });
      const found = await mustFind(repo(), id);
      expect(found.state).toBe('uploading');
      expect(found.parts).toEqual(parts);
      expect(Object.keys(found.parts[1] ?? {})).toEqual(['blob']);
    });

    it('finds nothing under an unknown id', async () => {
      expect(await repo().findById(newId())).toBeNull();
    });

    it('appends parts in order, keeping only the fields each part has', async () => {
      const id = await givenUpload(repo());
      expect(await repo().addPart(id, { blob: `${id}/0` })).toBe(true);
      expect(await repo().addPart(id, { blob: `${id}/1`, size: 3, meta: 'sealed-1' })).toBe(true);
      const { parts } = await mustFind(repo(), id);
      expect(parts).toEqual([{ blob: `${id}/0` }, { blob: `${id}/1`, size: 3, meta: 'sealed-1' }]);
      expect(Object.keys(parts[0] ?? {})).toEqual(['blob']);
    });

    it('marks an upload ready once: parts replaced, size, expiry and downloads set', async () => {
      const id = await givenUpload(repo(), { deleteTokenHash: 'kept' });
      const before = await mustFind(repo(), id);
      await repo().addPart(id, { blob: `${id}/0` });
      const expiresAt = minutesFromNow(10);
      const parts = [
        { blob: `${id}/0`, size: 5, meta: 'sealed-0' },
        { blob: `${id}/1`, size: 7, meta: 'sealed-1' },
      ];
      expect(await repo().markReady(id, { size: 12, parts, expiresAt, downloadsLeft: 3 })).toBe(true);
      expect(await repo().findById(id)).toEqual({
        ...before,
        state: 'ready',
        parts,
        size: 12,
        expiresAt,
        downloadsLeft: 3,
      });
      expect(await repo().markReady(id, { size: 1, parts: [], expiresAt, downloadsLeft: 9 })).toBe(false);
      expect(await repo().addPart(id, { blob: `${id}/2` })).toBe(false);
      expect(await mustFind(repo(), id)).toMatchObject({ size: 12, downloadsLeft: 3, parts });
    });

    it('refuses addPart and markReady for an unknown id', async () => {
      const id = newId();
      expect(await repo().addPart(id, { blob: `${id}/0` })).toBe(false);
      expect(await repo().markReady(id, { size: 0, parts: [], expiresAt: minutesFromNow(5), downloadsLeft: 1 })).toBe(false);
      expect(await repo().findById(id)).toBeNull();
    });

    it('deletes an upload in progress; addPart and markReady are refused afterwards', async () => {
      const id = await givenUpload(repo());
      await repo().addPart(id, { blob: `${id}/0` });
      await repo().deleteUpload(id);
      expect(await repo().findById(id)).toBeNull();
      expect(await repo().addPart(id, { blob: `${id}/1` })).toBe(false);
      expect(await repo().markReady(id, { size: 0, parts: [], expiresAt: minutesFromNow(5), downloadsLeft: 1 })).toBe(false);
      expect(await repo().findById(id)).toBeNull();
    });

    it('deleteUpload leaves a finished upload alone', async () => {
      const id = await givenReady(repo());
      await repo().deleteUpload(id);
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'ready' });
    });

    it('refuses to finish an upload that was swept meanwhile', async () => {
      const id = await givenUpload(repo(), { deadline: minutesFromNow(-1) });
      expect(await repo().beginPurge(id, new Date())).toMatchObject({ id, state: 'purging' });
      expect(await repo().addPart(id, { blob: `${id}/0` })).toBe(false);
      expect(await repo().markReady(id, { size: 0, parts: [], expiresAt: minutesFromNow(5), downloadsLeft: 1 })).toBe(false);
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'purging', parts: [] });
    });

    it('init is idempotent and keeps the records', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      await repo().init();
      await repo().init();
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'ready', downloadsLeft: 2 });
    });

    it('answers a ping', async () => {
      await expect(repo().ping()).resolves.toBeUndefined();
    });

    it('closes', async () => {
      await givenReady(repo());
      await expect(repo().close()).resolves.toBeUndefined();
    });
  });
}
