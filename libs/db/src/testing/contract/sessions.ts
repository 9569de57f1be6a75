import { describe, expect, it } from 'vitest';
import type { Claim, FileRepository } from '../../file-repository.ts';
import {
  freshLease,
  givenReady,
  minutesFromNow,
  mustClaim,
  mustFind,
  newId,
  purge,
  secondsFromNow,
  staleLease,
  type RepositoryAccess,
} from '../fixtures.ts';

/** A session id as the service makes them: a one-way hash of the secret, 43 base64url characters. */
const newSessionId = newId;

/** Claims the one download of a fresh file, opens a session on it and ends the stream, as a cut-off download does. */
async function givenCutOff(
  repo: FileRepository,
  until = minutesFromNow(60),
  leaseUntil = freshLease(),
): Promise<{ id: string; claim: Claim }> {
  const id = await givenReady(repo);
  const claim = await repo.openSession(await mustClaim(repo, id, leaseUntil), newSessionId(), until);
  expect(await repo.endStream(claim, new Date())).toBe(false); // the session holds the used-up file
  return { id, claim };
}

/** openSession, resume, closeSession, and how an open session keeps a used-up file from its purge. */
export function describeSessions(repo: RepositoryAccess): void {
  describe('resume sessions', () => {
    it('opens a session on a claim and hands the claim back carrying it', async () => {
      const id = await givenReady(repo());
      const sessionId = newSessionId();
      const claim = await repo().openSession(await mustClaim(repo(), id), sessionId, minutesFromNow(60));
      expect(claim.session).toBe(sessionId);
      expect(claim.file).toMatchObject({ id, downloadsLeft: 0, activeStreams: 1 });
    });

    it('keeps a used-up file whose stream broke while its session is open: not due, not purged', async () => {
      const { id } = await givenCutOff(repo());
      expect(await repo().findDue(new Date(), 10)).not.toContain(id);
      expect(await repo().beginPurge(id, new Date())).toBeNull();
      expect(await mustFind(repo(), id)).toMatchObject({ state: 'ready', downloadsLeft: 0, activeStreams: 0 });
    });

    it('resumes with the session: a new stream, no download taken', async () => {
      const { id, claim } = await givenCutOff(repo());
      const resumed = await repo().resume(id, claim.session!, new Date(), freshLease());
      expect(resumed).not.toBeNull();
      expect(resumed!.session).toBe(claim.session);
      expect(resumed!.file).toMatchObject({ id, state: 'ready', downloadsLeft: 0, activeStreams: 1 });
      expect(await mustFind(repo(), id)).toMatchObject({ downloadsLeft: 0, activeStreams: 1 });
    });

    it('resumes nothing with an unknown session, or with a session of another file', async () => {
      const { id } = await givenCutOff(repo());
      const other = await givenCutOff(repo());
      expect(await repo().resume(id, newSessionId(), new Date(), freshLease())).toBeNull();
      expect(await repo().resume(id, other.claim.session!, new Date(), freshLease())).toBeNull();
      expect(await repo().resume(newId(), other.claim.session!, new Date(), freshLease())).toBeNull();
      expect(await mustFind(repo(), id)).toMatchObject({ activeStreams: 0 });
    });

    it('closes with the last byte: no resume after that, and the file is due once its stream ends', async () => {
      const { id, claim } = await givenCutOff(repo());
      const resumed = (await repo().resume(id, claim.session!, new Date(), freshLease()))!;
      await repo().closeSession(resumed);
      expect(await repo().resume(id, claim.session!, new Date(), freshLease())).toBeNull();
      expect(await repo().endStream(resumed, new Date())).toBe(true);
      expect(await repo().findDue(new Date(), 10)).toContain(id);
      expect(await purge(repo(), id)).toBe(true);
    });

    it('ends with its window: no resume after it, and the used-up file is due', async () => {
      const until = secondsFromNow(30);
      const { id, claim } = await givenCutOff(repo(), until);
      const later = new Date(until.getTime() + 1);
      expect(await repo().resume(id, claim.session!, until, freshLease())).toBeNull(); // open until, not at, its end
      expect(await repo().findDue(later, 10)).toContain(id);
      expect(await purge(repo(), id, later)).toBe(true);
    });

    it('does not hold an expired or revoked file: no resume, and it is purged', async () => {
      const { id, claim } = await givenCutOff(repo());
      expect(await repo().expireNow(id, new Date())).toBe(true);
      expect(await repo().resume(id, claim.session!, new Date(), freshLease())).toBeNull();
      expect(await repo().findDue(new Date(), 10)).toContain(id);
      expect(await purge(repo(), id)).toBe(true);
    });

    it('still refuses a purge while a resumed stream holds a fresh lease, and allows it once that is stale', async () => {
      const { id, claim } = await givenCutOff(repo());
      await repo().resume(id, claim.session!, new Date(), freshLease());
      await repo().expireNow(id, new Date());
      expect(await repo().beginPurge(id, new Date())).toBeNull();

      const stale = await givenCutOff(repo(), minutesFromNow(60), staleLease()); // both streams' processes died
      await repo().resume(stale.id, stale.claim.session!, new Date(), staleLease());
      await repo().expireNow(stale.id, new Date());
      expect(await purge(repo(), stale.id)).toBe(true);
    });

    it('resumes nothing once the file is purged, and the purge takes the sessions with it', async () => {
      const { id, claim } = await givenCutOff(repo(), secondsFromNow(1));
      expect(await purge(repo(), id, secondsFromNow(2))).toBe(true);
      expect(await repo().resume(id, claim.session!, new Date(), freshLease())).toBeNull();
      expect(await repo().existingIds([id])).toEqual(new Set());
    });

    it('gives each download of a multi-download file its own session', async () => {
      const id = await givenReady(repo(), { downloads: 2 });
      const first = await repo().openSession(await mustClaim(repo(), id), newSessionId(), minutesFromNow(60));
      const second = await repo().openSession(await mustClaim(repo(), id), newSessionId(), minutesFromNow(60));
      expect(await repo().endStream(first, new Date())).toBe(false);
      expect(await repo().endStream(second, new Date())).toBe(false);

      await repo().closeSession(first); // the first download completed …
      expect(await repo().resume(id, first.session!, new Date(), freshLease())).toBeNull();
      expect(await repo().findDue(new Date(), 10)).not.toContain(id); // … the second may still resume
      const resumed = (await repo().resume(id, second.session!, new Date(), freshLease()))!;
      await repo().closeSession(resumed);
      expect(await repo().endStream(resumed, new Date())).toBe(true);
    });
  });
}
