import { describe, expect, it } from 'vitest';
import type { FileRepository } from '../../file-repository.ts';
import { freshLease, givenReady, mustFind, staleLease, type RepositoryAccess } from '../fixtures.ts';

const ROUNDS = 5;
const FILES_PER_ROUND = 20;
const CLAIMERS = 4;
const PURGERS = 2;
const OBSERVER_READS = 6;
const GIVE_BACK_ROUNDS = 40;
const COUNTED_DOWNLOADS = 12;

/**
 * Claims race purges on 1-download files. Leases are stale from the start, so a purge may cut in while a
 * stream is in flight and a give-back can arrive after the purge began: the paths where a record could
 * come back to life or be left behind.
 */
export function describeRaces(repo: RepositoryAccess): void {
  describe('races', () => {
    it('never revives a record once its purge began, and leaves no zombie behind', async () => {
      const random = seededRandom(0x5eed);
      for (let round = 0; round < ROUNDS; round += 1) {
        const ids = await Promise.all(Array.from({ length: FILES_PER_ROUND }, () => givenReady(repo())));
        const race = new PurgeRace(repo(), random);
        await Promise.all(ids.map((id) => race.run(id)));
        expect(race.violations).toEqual([]);
        expect(race.purgesBegun.size).toBeGreaterThan(0); // the race did reach the purge path
        for (const id of ids) expect(race.streamsEnded(id)).toBeLessThanOrEqual(1);

        await consumeAndSweep(repo(), ids);
        expect(await repo().existingIds(ids)).toEqual(new Set());
      }
      expect(await repo().findDue(new Date(), 1_000)).toEqual([]);
    });

    it('never revives a record when a give-back or a stream end lands together with the purge', async () => {
      const revived: string[] = [];
      for (let round = 0; round < GIVE_BACK_ROUNDS; round += 1) {
        const id = await givenReady(repo());
        const claim = await repo().claim(id, new Date(), staleLease());
        if (!claim) throw new Error(`round ${round}: the fixture's download could not be claimed`);
        const handBack = round % 2 === 0 ? repo().releaseClaim(claim) : repo().endStream(claim, new Date());
        const [, purging] = await Promise.all([handBack, repo().beginPurge(id, new Date())]);
        const after = await repo().findById(id);
        if (purging && after?.state !== 'purging') revived.push(`round ${round}: ${after?.state ?? 'gone'}`);
        if (purging && (await repo().claim(id, new Date(), staleLease()))) revived.push(`round ${round}: claimed`);
      }
      expect(revived).toEqual([]);
    });

    it('counts every download while leases are renewed and streams end at the same time', async () => {
      const id = await givenReady(repo(), { downloads: COUNTED_DOWNLOADS });
      const claims = await Promise.all(
        Array.from({ length: COUNTED_DOWNLOADS }, () => repo().claim(id, new Date(), freshLease())),
      );
      const held = claims.filter((claim) => claim !== null);
      expect(held).toHaveLength(COUNTED_DOWNLOADS);
      expect(new Set(held.map((claim) => claim.file.downloadsLeft)).size).toBe(COUNTED_DOWNLOADS);
      // Other writes to the same record land among the stream ends; none may undo another.
      await Promise.all(held.flatMap((claim) => [repo().renewLease(claim, freshLease()), repo().endStream(claim, new Date())]));
      expect(await mustFind(repo(), id)).toMatchObject({ downloadsLeft: 0, activeStreams: 0 });
      expect(await repo().findDue(new Date(), 10)).toContain(id);
    });
  });
}

/** One round: claimers (half give their download back, half finish), purgers and an observer per file. */
class PurgeRace {
  readonly violations: string[] = [];
  /** Files whose `beginPurge` has returned: any operation started after that must see `purging` or nothing. */
  readonly purgesBegun = new Set<string>();
  readonly #ended = new Map<string, number>();
  readonly #repo: FileRepository;
  readonly #random: () => number;

  constructor(repo: FileRepository, random: () => number) {
    this.#repo = repo;
    this.#random = random;
  }

  streamsEnded(id: string): number {
    return this.#ended.get(id) ?? 0;
  }

  async run(id: string): Promise<void> {
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < CLAIMERS; i += 1) tasks.push(this.#claimer(id, i % 2 === 0));
    for (let i = 0; i < PURGERS; i += 1) tasks.push(this.#purger(id));
    tasks.push(this.#observer(id));
    await Promise.all(tasks);
  }

  async #claimer(id: string, givesBack: boolean): Promise<void> {
    await this.#pause();
    const purgeHadBegun = this.purgesBegun.has(id);
    const claim = await this.#repo.claim(id, new Date(), staleLease());
    if (!claim) return;
    if (purgeHadBegun) this.violations.push(`${id}: claimed after its purge began`);
    await this.#pause();
    if (givesBack) {
      await this.#repo.releaseClaim(claim);
      return;
    }
    this.#ended.set(id, this.streamsEnded(id) + 1);
    if (await this.#repo.endStream(claim, new Date())) await this.#purge(id);
  }

  async #purger(id: string): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await this.#pause();
      await this.#purge(id);
    }
  }

  async #purge(id: string): Promise<void> {
    const record = await this.#repo.beginPurge(id, new Date());
    if (!record) return;
    if (record.state !== 'purging') this.violations.push(`${id}: beginPurge returned state ${record.state}`);
    this.purgesBegun.add(id);
    await this.#pause();
    await this.#repo.deletePurged(id);
  }

  async #observer(id: string): Promise<void> {
    for (let read = 0; read < OBSERVER_READS; read += 1) {
      await this.#pause();
      const purgeHadBegun = this.purgesBegun.has(id);
      const record = await this.#repo.findById(id);
      if (purgeHadBegun && record && record.state !== 'purging') {
        this.violations.push(`${id}: seen ${record.state} after its purge began`);
      }
    }
  }

  /** Yields to the event loop 0–3 times, so the tasks interleave differently on every file. */
  async #pause(): Promise<void> {
    const turns = Math.floor(this.#random() * 4);
    for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What a download and a sweeper do after the race: take what is left, then purge everything due. */
async function consumeAndSweep(repo: FileRepository, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    let claim = await repo.claim(id, new Date(), staleLease());
    while (claim) {
      await repo.endStream(claim, new Date());
      claim = await repo.claim(id, new Date(), staleLease());
    }
  }
  for (const id of await repo.findDue(new Date(), 1_000)) {
    if (await repo.beginPurge(id, new Date())) await repo.deletePurged(id);
  }
}

/** A small seeded generator (mulberry32): the same pauses on every run, so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
