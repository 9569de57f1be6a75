import { describe, expect, it } from 'vitest';
import { givenReady, givenUpload, minutesFromNow, mustClaim, newId, secondsFromNow, type RepositoryAccess } from '../fixtures.ts';

/** findDue and existingIds: what the sweeper reads. */
export function describeDueQueries(repo: RepositoryAccess): void {
  describe('due queries', () => {
    it('finds expired files oldest expiry first, then used-up ones; not live files nor uploads in time', async () => {
      const newest = await givenReady(repo(), { expiresAt: secondsFromNow(-60) });
      const oldest = await givenReady(repo(), { expiresAt: secondsFromNow(-180) });
      const middle = await givenReady(repo(), { expiresAt: secondsFromNow(-120) });
      const stalled = await givenUpload(repo(), { deadline: secondsFromNow(-30) });
      const usedUp = await givenReady(repo());
      await mustClaim(repo(), usedUp);
      await givenReady(repo()); // live
      await givenUpload(repo()); // uploading in time: no downloads yet, but not used up
      expect(await repo().findDue(new Date(), 100)).toEqual([oldest, middle, newest, stalled, usedUp]);
    });

    it('lists a file that is both expired and used up once', async () => {
      const id = await givenReady(repo());
      await mustClaim(repo(), id);
      await repo().expireNow(id, new Date());
      expect(await repo().findDue(new Date(), 100)).toEqual([id]);
    });

    it('keeps listing a record whose purge was cut short', async () => {
      const expired = await givenReady(repo(), { expiresAt: minutesFromNow(-1) });
      const usedUp = await givenReady(repo());
      await repo().endStream(await mustClaim(repo(), usedUp), new Date());
      for (const id of [expired, usedUp]) expect(await repo().beginPurge(id, new Date())).not.toBeNull();
      expect(new Set(await repo().findDue(new Date(), 100))).toEqual(new Set([expired, usedUp]));
    });

    it('returns at most `limit` ids, the oldest expiries first', async () => {
      const ids: string[] = [];
      for (let age = 5; age >= 1; age -= 1) ids.push(await givenReady(repo(), { expiresAt: minutesFromNow(-age) }));
      const usedUp = await givenReady(repo());
      await mustClaim(repo(), usedUp);
      expect(await repo().findDue(new Date(), 2)).toEqual(ids.slice(0, 2));
      expect(await repo().findDue(new Date(), 5)).toEqual(ids);
      expect(await repo().findDue(new Date(), 6)).toEqual([...ids, usedUp]);
    });

    it('judges expiry by the clock it is given', async () => {
      const id = await givenReady(repo(), { expiresAt: minutesFromNow(10) });
      expect(await repo().findDue(new Date(), 10)).toEqual([]);
      expect(await repo().findDue(minutesFromNow(11), 10)).toEqual([id]);
    });

    it('finds the files expiring in a window, oldest first, whatever their state, and nothing outside it', async () => {
      const now = Date.now();
      const at = (ms: number) => new Date(now + ms);
      const before = await givenReady(repo(), { expiresAt: at(-250) }); // on the window's open end: outside
      const first = await givenReady(repo(), { expiresAt: at(-200) });
      const stalled = await givenUpload(repo(), { deadline: at(-100) }); // an upload whose deadline passed
      const last = await givenReady(repo(), { expiresAt: at(0) }); // on the closed end: inside
      const after = await givenReady(repo(), { expiresAt: at(1) });
      await givenReady(repo()); // a day away
      expect(await repo().findExpiring(at(-250), at(0), 100)).toEqual([first, stalled, last]);
      expect(await repo().findExpiring(at(-250), at(0), 2)).toEqual([first, stalled]);
      expect(await repo().findExpiring(at(-1_000), at(-250), 100)).toEqual([before]);
      expect(await repo().findExpiring(at(0), at(250), 100)).toEqual([after]);
      expect(await repo().findExpiring(at(5_000), at(5_250), 100)).toEqual([]);
    });

    it('tells which ids have a record', async () => {
      const ready = await givenReady(repo());
      const uploading = await givenUpload(repo());
      expect(await repo().existingIds([ready, newId(), uploading])).toEqual(new Set([ready, uploading]));
      expect(await repo().existingIds([])).toEqual(new Set());
      expect(await repo().existingIds([newId()])).toEqual(new Set());
    });
  });
}
