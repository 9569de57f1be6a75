import { afterEach, beforeEach, describe } from 'vitest';
import type { FileRepository } from '../file-repository.ts';
import { describeClaims } from './contract/claims.ts';
import { describeDueQueries } from './contract/due-queries.ts';
import { describeLifecycle } from './contract/lifecycle.ts';
import { describePurges } from './contract/purges.ts';
import { describeRaces } from './contract/races.ts';
import { describeSessions } from './contract/sessions.ts';

export interface ContractSubject {
  /** A repository on an empty store, not yet initialised: the contract calls `init()` itself. */
  readonly repo: FileRepository;
  /** Closes the repository (it may already be closed) and drops its store: file, folder or database. */
  cleanup(): Promise<void>;
}

/**
 * The behaviour every `FileRepository` adapter must have, as vitest cases. Call it from an adapter's test
 * file; `make` is called before each case, so every case starts on a fresh, empty store.
 */
export function describeFileRepositoryContract(name: string, make: () => Promise<ContractSubject>): void {
  describe(`FileRepository contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    const repo = (): FileRepository => {
      if (!subject) throw new Error('the contract reached a case without a repository');
      return subject.repo;
    };

    beforeEach(async () => {
      subject = await make();
      await subject.repo.init();
    });
    afterEach(async () => {
      const done = subject;
      subject = undefined;
      await done?.cleanup();
    });

    describeLifecycle(repo);
    describeClaims(repo);
    describePurges(repo);
    describeDueQueries(repo);
    describeSessions(repo);
    describeRaces(repo);
  });
}
