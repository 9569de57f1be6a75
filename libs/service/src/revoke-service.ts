import { AppError, deleteTokenMatches, fileIdForCode, isWellFormedCode } from '@one-time/core';
import type { FileRepository } from '@one-time/db';
import { systemClock, type Clock, type Log, type PurgeScheduler } from './ports.ts';

/**
 * Revoking needs the code and the delete token handed out at upload. The file becomes unavailable at once
 * (its expiry is set to now, one conditional write); the worker then purges it like any expired file.
 */
export class RevokeService {
  readonly #files: FileRepository;
  readonly #purges: PurgeScheduler;
  readonly #log: Log;
  readonly #clock: Clock;

  constructor(deps: { files: FileRepository; purges: PurgeScheduler; log: Log; clock?: Clock }) {
    this.#files = deps.files;
    this.#purges = deps.purges;
    this.#log = deps.log;
    this.#clock = deps.clock ?? systemClock;
  }

  async revoke(code: string, deleteToken: string): Promise<void> {
    if (!isWellFormedCode(code)) throw new AppError('INVALID_CODE');
    const fileId = fileIdForCode(code);
    const record = await this.#files.findById(fileId);
    if (!record || record.state !== 'ready') throw new AppError('NOT_FOUND');
    if (!deleteTokenMatches(deleteToken, record.deleteTokenHash)) throw new AppError('FORBIDDEN');
    if (!(await this.#files.expireNow(fileId, this.#clock()))) throw new AppError('NOT_FOUND');
    try {
      await this.#purges.enqueuePurge(fileId, 'revoked');
    } catch (error) {
      this.#log.warn({ fileId, err: error }, 'purge after revoke deferred to the sweeper');
    }
  }
}
