import { describe, expect, it } from 'vitest';
import {
  freshLease,
  givenReady,
  givenUpload,
  minutesFromNow,
  mustClaim,
  mustFind,
  newId,
  staleLease,
  type RepositoryAccess,
} from '../fixtures.ts';

/** beginPurge, deletePurged, expireNow, and that nothing leaves `purging` except by deletion. */
export function describePurges(repo: RepositoryAccess): void {
  describe('purges', () => {
    it('does not purge a live file, an upload in time, or an unknown id', async () => {
      const live = await givenReady(repo(), { downloads: 2 });
      await mustClaim(repo(), live);
      const uploading = await givenUpload(repo());
      for (const id of [live, uploading, newId()]) expect(await repo().beginPurge(id, new Date())).toBeNull();
      expect(await mustFind(repo(), live)).toMatchObject({ state: 'ready' });
      expect(await mustFind(repo(), uploading)).toMatchObject({ state: 'uploading' });
    });

    it('purges an expired file and an upload past its deadline', async () => {
      const expired = await givenReady(repo(), { expiresAt: minutesFromNow(-1) });
      const stalled = await givenUpload(repo(), { deadline: minutesFromNow(-1) });
      expect(await repo().beginPurge(expired, new Date())).toMatchObject({ id: expired, state: 'purging' });
      expect(await repo().beginPurge(stalled, new Date())).toMatchObject({ id: stalled, state: 'purging' });
    });

    it('returns the whole record to purge, parts included', async () => {
      const id = await givenReady(repo(), { expiresAt: minutesFromNow(-1) });
      const before = await mustFind(repo(), id);
      expect(await repo().beginPurge(id, new Date())).toEqual({ ...before, state: 'purging' });
    });

    it('refuses a used-up file while its stream holds a fresh lease; accepts it once the stream ended', async () => {
      const id = await givenReady(repo());
      const claim = await mustClaim(repo(), id, freshLease());
      expect(await repo().beginPurge(id, new Date())).toBeNull();
      expect(await repo().endStream(claim, new Date())).toBe(true);
      expect(await repo().beginPurge(id, new Date())).toMatchObject({ state: 'purging' });
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();
    });

    it('refuses an expired file while a stream holds a fresh lease', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      const claim = await mustClaim(repo(), id, freshLease());
      await repo().expireNow(id, new Date());
      expect(await repo().beginPurge(id, new Date())).toBeNull();
      expect(await repo().endStream(claim, new Date())).toBe(true);
      expect(await repo().beginPurge(id, new Date())).toMatchObject({ state: 'purging' });
    });

    it('accepts a file whose stream lease went stale (the process serving it died)', async () => {
      const id = await givenReady(repo());
      await mustClaim(repo(), id, staleLease());
      expect(await repo().beginPurge(id, new Date())).toMatchObject({ state: 'purging', activeStreams: 1 });
    });

    it('resumes a purge cut short: a `purging` record is returned again', async () => {
      const id = await givenReady(repo(), { expiresAt: minutesFromNow(-1) });
      const first = await repo().beginPurge(id, new Date());
      expect(first).toMatchObject({ state: 'purging' });
      expect(await repo().beginPurge(id, new Date())).toEqual(first);
    });

    it('never brings a `purging` record back: no claim, give-back, stream end or revocation', async () => {
      const id = await givenReady(repo());
      const claim = await mustClaim(repo(), id, staleLease());
      expect(await repo().beginPurge(id, new Date())).not.toBeNull();
      await repo().releaseClaim(claim);
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();
      await repo().renewLease(claim, freshLease());
      expect(await repo().endStream(claim, new Date())).toBe(false); // its purge is already under way
      expect(await repo().expireNow(id, new Date())).toBe(false);
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'purging', downloadsLeft: 0 });
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();
      expect(await repo().beginPurge(id, new Date())).toMatchObject({ state: 'purging' });
    });

    it('deletes a record whose purge began, and leaves no trace of it', async () => {
      const id = await givenReady(repo());
      await repo().endStream(await mustClaim(repo(), id), new Date());
      expect(await repo().beginPurge(id, new Date())).not.toBeNull();
      await repo().deletePurged(id);
      expect(await repo().findById(id)).toBeNull();
      expect(await repo().existingIds([id])).toEqual(new Set());
      expect(await repo().findDue(new Date(), 10)).toEqual([]);
      await repo().deletePurged(id); // again: nothing left to delete, no error
    });

    it('revokes a ready file at once', async () => {
      const id = await givenReady(repo(), { downloads: 5 });
      const now = new Date();
      expect(await repo().expireNow(id, now)).toBe(true);
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();
      expect(await repo().findDue(new Date(), 10)).toEqual([id]);
      expect(await repo().beginPurge(id, new Date())).toMatchObject({ state: 'purging' });
    });

    it('revokes only ready files', async () => {
      const uploading = await givenUpload(repo());
      expect(await repo().expireNow(uploading, new Date())).toBe(false);
      expect(await repo().expireNow(newId(), new Date())).toBe(false);
      expect(await mustFind(repo(), uploading)).toMatchObject({ state: 'uploading' });
    });
  });
}
