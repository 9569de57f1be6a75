import { describe, expect, it } from 'vitest';
import {
  freshLease,
  givenReady,
  givenUpload,
  minutesFromNow,
  mustClaim,
  mustFind,
  newId,
  purge,
  staleLease,
  type RepositoryAccess,
} from '../fixtures.ts';

/** claim, releaseClaim, renewLease, endStream. */
export function describeClaims(repo: RepositoryAccess): void {
  describe('claims', () => {
    it('claims only ready, unexpired files with downloads left', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      expect((await mustClaim(repo(), id)).file).toMatchObject({ downloadsLeft: 1, activeStreams: 1 });
      expect((await mustClaim(repo(), id)).file).toMatchObject({ downloadsLeft: 0, activeStreams: 2 });
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();

      const expired = await givenReady(repo(), { expiresAt: minutesFromNow(-1) });
      expect(await repo().claim(expired, new Date(), freshLease())).toBeNull();
      const uploading = await givenUpload(repo());
      expect(await repo().claim(uploading, new Date(), freshLease())).toBeNull();
      expect(await repo().claim(newId(), new Date(), freshLease())).toBeNull();
      expect(await mustFind(repo(), expired)).toMatchObject({ downloadsLeft: 1, activeStreams: 0 });
    });

    it('refuses a claim at the very moment of expiry', async () => {
      const expiresAt = minutesFromNow(1);
      const id = await givenReady(repo(), { expiresAt });
      expect(await repo().claim(id, expiresAt, freshLease())).toBeNull();
      expect(await repo().claim(id, new Date(expiresAt.getTime() - 1), freshLease())).not.toBeNull();
    });

    it('returns the record as the claim left it, and a handle', async () => {
      const id = await givenReady(repo(), { downloads: 3 });
      const leaseUntil = minutesFromNow(3);
      const claim = await mustClaim(repo(), id, leaseUntil);
      expect(claim.file).toEqual(await repo().findById(id));
      expect(claim.file).toMatchObject({ id, state: 'ready', downloadsLeft: 2, activeStreams: 1, leaseUntil });
      expect(typeof claim.handle).toBe('string');
      expect(claim.handle.length).toBeGreaterThan(0);
    });

    it('keeps the later lease when streams overlap', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      const longer = minutesFromNow(10);
      await mustClaim(repo(), id, longer);
      await mustClaim(repo(), id, minutesFromNow(1));
      expect((await mustFind(repo(), id)).leaseUntil).toEqual(longer);
    });

    it('lets exactly k of 40 parallel claims win (k = 3)', async () => {
      const id = await givenReady(repo(), { downloads: 3 });
      const results = await Promise.all(Array.from({ length: 40 }, () => repo().claim(id, new Date(), freshLease())));
      const winners = results.filter((result) => result !== null);
      expect(winners).toHaveLength(3);
      // Each download was taken once: the winners saw 2, 1 and 0 left.
      expect(winners.map((claim) => claim.file.downloadsLeft).sort()).toEqual([0, 1, 2]);
      expect(await mustFind(repo(), id)).toMatchObject({ downloadsLeft: 0, activeStreams: 3 });
    });

    it('gives a claimed download back, to be taken again', async () => {
      const id = await givenReady(repo());
      const claim = await mustClaim(repo(), id);
      await repo().releaseClaim(claim);
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'ready', downloadsLeft: 1, activeStreams: 0 });
      expect((await mustClaim(repo(), id)).file.downloadsLeft).toBe(0);
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();
    });

    it('gives back a download that was not the last one taken', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      const first = await mustClaim(repo(), id);
      await mustClaim(repo(), id);
      await repo().releaseClaim(first); // the second stream is still in flight
      expect(await mustFind(repo(), id)).toMatchObject({ downloadsLeft: 1, activeStreams: 1 });
      expect(await repo().claim(id, new Date(), freshLease())).not.toBeNull();
      expect(await repo().claim(id, new Date(), freshLease())).toBeNull();
    });

    it('renews a lease, so a slow stream is not mistaken for a dead one', async () => {
      const id = await givenReady(repo());
      const claim = await mustClaim(repo(), id, staleLease());
      const renewed = minutesFromNow(5);
      await repo().renewLease(claim, renewed);
      expect((await mustFind(repo(), id)).leaseUntil).toEqual(renewed);
      expect(await repo().beginPurge(id, new Date())).toBeNull();
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'ready' });
    });

    it('ends streams: due only once used up and the last stream is closed', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      const first = await mustClaim(repo(), id);
      const second = await mustClaim(repo(), id);
      expect(await repo().endStream(first, new Date())).toBe(false); // the second is still streaming
      expect(await mustFind(repo(), id)).toMatchObject({ activeStreams: 1 });
      expect(await repo().endStream(second, new Date())).toBe(true);
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'ready', downloadsLeft: 0, activeStreams: 0 });
    });

    it('ends a stream of a file with downloads left: not due', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      expect(await repo().endStream(await mustClaim(repo(), id), new Date())).toBe(false);
      expect(await mustFind(repo(), id)).toMatchObject({ downloadsLeft: 1, activeStreams: 0 });
    });

    it('ends a stream of a file that expired meanwhile: due', async () => {
      const id = await givenReady(repo(), { downloads: 3 });
      const claim = await mustClaim(repo(), id);
      const revokedAt = new Date();
      expect(await repo().expireNow(id, revokedAt)).toBe(true);
      expect(await repo().endStream(claim, revokedAt)).toBe(true);
    });

    it('ends a stream whose record is already gone: not due, no error', async () => {
      const id = await givenReady(repo());
      const claim = await mustClaim(repo(), id, staleLease());
      expect(await purge(repo(), id)).toBe(true);
      expect(await repo().endStream(claim, new Date())).toBe(false);
      await repo().releaseClaim(claim);
      await repo().renewLease(claim, freshLease());
      expect(await repo().findById(id)).toBeNull();
    });
  });
}
