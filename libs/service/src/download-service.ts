import { pipeline, type Readable } from 'node:stream';
import {
  AppError,
  type FileRecord,
  type PartMeta,
  type Timing,
  fileIdForCode,
  fileKeyForCode,
  isAppError,
  isAvailable,
  isWellFormedCode,
} from '@one-time/core';
import { decryptStream, open } from '@one-time/crypto';
import type { Claim, FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';
import { systemClock, type Clock, type Log, type PurgeScheduler } from './ports.ts';
import type { PurgeService } from './purge-service.ts';
import { zipStream } from './zip-stream.ts';

export interface DownloadServiceDeps {
  readonly files: FileRepository;
  readonly blobs: BlobStore;
  readonly purges: PurgeScheduler;
  /**
   * Purges a used-up file in this process right after its last download: no job to enqueue, hand over and
   * run elsewhere. When it fails the purge job takes over, and the sweeper after that.
   */
  readonly purger?: Pick<PurgeService, 'purge'>;
  readonly timing: Timing;
  readonly log: Log;
  readonly clock?: Clock;
}

export interface FileMeta {
  readonly fileName: string;
  readonly contentType: string;
  /** Unknown for a zip of several files (it is built while it streams). */
  readonly size: number | undefined;
  readonly expiresAt: Date;
  readonly downloadsLeft: number;
}

export interface Download extends FileMeta {
  readonly stream: Readable;
  /**
   * Must be called once the response is over, whether it finished or was aborted: it closes the stream's
   * claim and, after the last allowed download, schedules the purge. Safe to call more than once.
   */
  close(): Promise<void>;
}

export class DownloadService {
  readonly #deps: DownloadServiceDeps;
  readonly #clock: Clock;

  constructor(deps: DownloadServiceDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  /** Metadata without consuming a download (HEAD). */
  async peek(code: string): Promise<FileMeta> {
    const record = await this.#deps.files.findById(fileIdFrom(code));
    if (!record || !isAvailable(record, this.#clock())) throw new AppError('NOT_FOUND');
    return metaOf(record, fileKeyForCode(code));
  }

  /**
   * Claims one download with a single conditional update, then opens storage. If storage fails before the
   * first byte, the claim is given back: the file is not lost. If the blob is missing, the file is gone: it
   * is expired at once and purged, and the caller gets the same 404 as for any used-up code.
   */
  async open(code: string): Promise<Download> {
    const fileId = fileIdFrom(code);
    const now = this.#clock();
    const claim = await this.#deps.files.claim(fileId, now, this.#leaseFrom(now));
    if (!claim) throw new AppError('NOT_FOUND');

    const key = fileKeyForCode(code);
    let stream: Readable;
    let meta: FileMeta;
    try {
      meta = metaOf(claim.file, key);
      stream = await this.#openContent(claim.file, key);
    } catch (error) {
      if (isAppError(error) && error.code === 'NOT_FOUND') await this.#forgetMissing(claim);
      else await this.#release(claim);
      throw error;
    }
    return { ...meta, stream, close: this.#closer(claim) };
  }

  async #release(claim: Claim): Promise<void> {
    await this.#deps.files.releaseClaim(claim).catch((releaseError: unknown) => {
      this.#deps.log.error({ fileId: claim.file.id, err: releaseError }, 'claim not released; the file is lost');
    });
  }

  /** A record whose blob is gone (deleted by a purge this claim raced, or lost) is a file that is gone. */
  async #forgetMissing(claim: Claim): Promise<void> {
    try {
      await this.#deps.files.expireNow(claim.file.id, this.#clock());
    } catch (error) {
      this.#deps.log.warn({ fileId: claim.file.id, err: error }, 'file with a missing blob not expired; the sweeper will');
    }
    await this.#closer(claim)();
  }

  /** Decrypts as it streams; a failed integrity check errors the stream, so the response is aborted. */
  async #openContent(record: FileRecord, key: Buffer): Promise<Readable> {
    const [first, ...rest] = record.parts;
    if (!first) throw new AppError('NOT_FOUND');
    const opened = decrypted((await this.#deps.blobs.read(first.blob)).stream, key);
    if (rest.length === 0) return opened;
    return zipStream([
      { name: openMeta(first, key).name, open: () => Promise.resolve(opened) },
      ...rest.map((part) => ({
        name: openMeta(part, key).name,
        open: async () => decrypted((await this.#deps.blobs.read(part.blob)).stream, key),
      })),
    ]);
  }

  /** Keeps the stream's lease fresh while it runs; a process that dies stops renewing it. */
  #closer(claim: Claim): () => Promise<void> {
    const renewEvery = Math.max(1_000, Math.floor(this.#deps.timing.streamLeaseMs / 3));
    const timer = setInterval(() => {
      this.#deps.files.renewLease(claim, this.#leaseFrom(this.#clock())).catch((error: unknown) => {
        this.#deps.log.warn({ fileId: claim.file.id, err: error }, 'stream lease not renewed');
      });
    }, renewEvery);
    timer.unref();
    let closing: Promise<void> | undefined;
    return () => {
      clearInterval(timer);
      closing ??= this.#endStream(claim);
      return closing;
    };
  }

  async #endStream(claim: Claim): Promise<void> {
    const fileId = claim.file.id;
    try {
      if (await this.#deps.files.endStream(claim, this.#clock())) await this.#purgeUsedUp(fileId);
    } catch (error) {
      this.#deps.log.warn({ fileId, err: error }, 'purge after download deferred to the sweeper');
    }
  }

  async #purgeUsedUp(fileId: string): Promise<void> {
    if (this.#deps.purger) {
      try {
        await this.#deps.purger.purge(fileId);
        return;
      } catch (error) {
        this.#deps.log.warn({ fileId, err: error }, 'purge after download left to the purge job');
      }
    }
    await this.#deps.purges.enqueuePurge(fileId, 'downloaded');
  }

  #leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.#deps.timing.streamLeaseMs);
  }
}

function fileIdFrom(code: string): string {
  if (!isWellFormedCode(code)) throw new AppError('INVALID_CODE');
  return fileIdForCode(code);
}

/** Storage errors and integrity failures both end up as an error on the returned stream. */
function decrypted(source: Readable, key: Buffer): Readable {
  return pipeline(source, decryptStream(key), () => undefined);
}

function openMeta(part: FileRecord['parts'][number], key: Buffer): PartMeta {
  if (part.meta === undefined) throw new AppError('NOT_FOUND');
  return JSON.parse(open(key, part.meta, part.blob)) as PartMeta;
}

function metaOf(record: FileRecord, key: Buffer): FileMeta {
  const [first, second] = record.parts;
  const single = first !== undefined && second === undefined ? openMeta(first, key) : undefined;
  return {
    fileName: single ? single.name : `one-time-${record.parts.length}-files.zip`,
    contentType: single ? single.contentType : 'application/zip',
    size: single ? record.size : undefined,
    expiresAt: record.expiresAt,
    downloadsLeft: record.downloadsLeft,
  };
}
