import { Readable, pipeline } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  AppError,
  type EndToEndInfo,
  type FileRecord,
  type PartMeta,
  type Timing,
  fileIdForCode,
  fileKeyForCode,
  generateSessionSecret,
  isAppError,
  isAvailable,
  isWellFormedCode,
  isWellFormedSessionSecret,
  sessionIdForSecret,
} from '@one-time/core';
import { decryptStream, decryptWhole, open, recycleChunk } from '@one-time/crypto';
import type { Claim, FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';
import { systemClock, type Clock, type Log, type PurgeScheduler } from './ports.ts';
import type { PurgeService } from './purge-service.ts';
import { byteRange } from './byte-range.ts';
import { zipOf, zipSize } from './zip-stream.ts';

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
  /** The bytes a whole download sends: the file, or the zip of several (laid out before a byte is read). */
  readonly size: number;
  /** A strong validator, random per upload; undefined for files stored before there were any. */
  readonly etag: string | undefined;
  readonly expiresAt: Date;
  readonly downloadsLeft: number;
  /** A file its sender encrypted: the sealed metadata only the link's key opens; undefined for others. */
  readonly e2eMeta: string | undefined;
}

/** What a download of a sender-encrypted file is called: the server knows no other name. */
export const END_TO_END_FILE_NAME = 'encrypted';

/** What lets the claimant, and only the claimant, finish a cut-off download. */
export interface DownloadSession {
  /** Handed to the claimant once (cookie and header); the store keeps only a hash of it. */
  readonly secret: string;
  /** The end of the resume window: `RESUME_WINDOW` after the claim, never past the file's expiry. */
  readonly until: Date;
}

/** A download taken by `open`: the whole file from its first byte, and the session to resume it with. */
export interface Download extends FileMeta {
  readonly session: DownloadSession;
  readonly stream: Readable;
  /**
   * Must be called once the response is over, whether it finished or was aborted; `delivered` when it sent
   * the last byte. A delivered download closes its session and, after the last one, the file is purged; a
   * cut-off one stays resumable until the session ends. Safe to call more than once.
   */
  close(delivered: boolean): Promise<void>;
}

/** A download taken up again by `resume`: any byte range of the same bytes, no download consumed. */
export interface ResumedDownload extends FileMeta {
  /** Bytes `from`…`to`, inclusive (`to` at most `size - 1`). */
  read(from: number, to: number): Promise<Readable>;
  close(delivered: boolean): Promise<void>;
}

/** A file's bytes as served: its metadata, and any range of them. */
interface Content {
  readonly meta: FileMeta;
  read(from: number, to: number): Promise<Readable>;
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
    return describe(record, fileKeyForCode(code)).meta;
  }

  /**
   * Claims one download with a single conditional update, opens its resume session, then opens storage. If
   * storage fails before the first byte, the claim is given back: the file is not lost. If the blob is
   * missing, the file is gone: it is expired at once and purged, and the caller gets the same 404 as for any
   * used-up code.
   */
  async open(code: string): Promise<Download> {
    const fileId = fileIdFrom(code);
    const now = this.#clock();
    const claimed = await this.#deps.files.claim(fileId, now, this.#leaseFrom(now));
    if (!claimed) throw new AppError('NOT_FOUND');

    const key = fileKeyForCode(code);
    let content: Content;
    let stream: Readable;
    try {
      content = await this.#content(claimed.file, key);
      stream = await content.read(0, content.meta.size - 1);
    } catch (error) {
      if (isAppError(error) && error.code === 'NOT_FOUND') await this.#forgetMissing(claimed);
      else await this.#release(claimed);
      throw error;
    }
    const secret = generateSessionSecret();
    const until = new Date(Math.min(now.getTime() + this.#deps.timing.resumeWindowMs, claimed.file.expiresAt.getTime()));
    let claim: Claim;
    try {
      claim = await this.#deps.files.openSession(claimed, sessionIdForSecret(secret), until);
    } catch (error) {
      stream.destroy();
      await this.#release(claimed);
      throw error;
    }
    return { ...content.meta, session: { secret, until }, stream, close: this.#closer(claim, until) };
  }

  /**
   * Takes a cut-off download up again with its session's secret: a new stream, no download consumed. An
   * unknown, closed or ended session gets the same 404 as an unknown code.
   */
  async resume(code: string, secret: string): Promise<ResumedDownload> {
    const fileId = fileIdFrom(code);
    if (!isWellFormedSessionSecret(secret)) throw new AppError('NOT_FOUND');
    const now = this.#clock();
    const claim = await this.#deps.files.resume(fileId, sessionIdForSecret(secret), now, this.#leaseFrom(now));
    if (!claim) throw new AppError('NOT_FOUND');
    const close = this.#closer(claim, undefined);
    try {
      const content = await this.#content(claim.file, fileKeyForCode(code));
      return { ...content.meta, read: (from, to) => content.read(from, to), close };
    } catch (error) {
      await close(false);
      throw error;
    }
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
    await this.#closer(claim, undefined)(false);
  }

  /** One file: its decrypted bytes. Several: a zip of them, its layout fixed before a byte is read. */
  async #content(record: FileRecord, key: Buffer): Promise<Content> {
    const { meta, parts } = describe(record, key);
    const [only] = parts;
    if (parts.length === 1 && only) {
      return { meta, read: async (from, to) => whole(await this.#plaintext(only.blob, key), from, to, meta.size) };
    }
    if (meta.e2eMeta !== undefined) return this.#chunks(meta, parts, key);
    // A zip opens its parts only as it reaches them: check them all now, so storage that is down gives the
    // claim back and a missing part makes the file gone, before the answer starts.
    const present = await Promise.all(parts.map((part) => this.#deps.blobs.exists(part.blob)));
    if (present.includes(false)) throw new AppError('NOT_FOUND');
    const entries = await Promise.all(
      parts.map(async (part) => ({ ...part, crc32: part.crc32 ?? (await this.#crc32(part.blob, key)) })),
    );
    const zip = zipOf(
      entries.map((part) => ({
        name: part.name,
        size: part.size,
        crc32: part.crc32,
        open: async (skip: number) => byteRange(await this.#plaintext(part.blob, key), 0, skip, part.size - 1),
      })),
    );
    return { meta, read: (from, to) => Promise.resolve(whole(zip.stream(from), from, to, meta.size, from)) };
  }

  /**
   * The chunks of a sender-encrypted file, one after the other; a range opens only the chunks it overlaps,
   * each when it is reached. All must exist before the answer starts (as for a zip).
   */
  async #chunks(meta: FileMeta, parts: readonly DescribedPart[], key: Buffer): Promise<Content> {
    const present = await Promise.all(parts.map((part) => this.#deps.blobs.exists(part.blob)));
    if (present.includes(false)) throw new AppError('NOT_FOUND');
    const read = (from: number, to: number): Readable => {
      const open = async (part: DescribedPart, skip: number, last: number) =>
        byteRange(await this.#plaintext(part.blob, key), 0, skip, last);
      return Readable.from(
        (async function* () {
          let start = 0;
          for (const part of parts) {
            const end = start + part.size - 1;
            if (end >= from && start <= to) {
              yield* await open(part, Math.max(from, start) - start, Math.min(to, end) - start);
            }
            start = end + 1;
          }
        })(),
        { objectMode: false },
      );
    };
    return { meta, read: (from, to) => Promise.resolve(read(from, to)) };
  }

  /**
   * Decrypts as it streams; a failed integrity check errors the stream, so the response is aborted. A blob the
   * store read whole (a small one) is decrypted whole, when the stream is first read: one chunk, no stages.
   */
  async #plaintext(blob: string, key: Buffer): Promise<Readable> {
    const read = await this.#deps.blobs.read(blob);
    if (read.bytes) return decryptedWhenRead(read.bytes, key);
    return pipeline(read.stream, decryptStream(key), () => undefined);
  }

  /** Files stored before parts carried their CRC: one extra read of the part, once per download. */
  async #crc32(blob: string, key: Buffer): Promise<number> {
    let value = 0;
    for await (const chunk of await this.#plaintext(blob, key)) {
      value = crc32(chunk as Buffer, value);
      recycleChunk(chunk as Buffer);
    }
    return value;
  }

  /** Keeps the stream's lease fresh while it runs; a process that dies stops renewing it. */
  #closer(claim: Claim, sessionUntil: Date | undefined): (delivered: boolean) => Promise<void> {
    const renewEvery = Math.max(1_000, Math.floor(this.#deps.timing.streamLeaseMs / 3));
    const timer = setInterval(() => {
      this.#deps.files.renewLease(claim, this.#leaseFrom(this.#clock())).catch((error: unknown) => {
        this.#deps.log.warn({ fileId: claim.file.id, err: error }, 'stream lease not renewed');
      });
    }, renewEvery);
    timer.unref();
    let closing: Promise<void> | undefined;
    return (delivered) => {
      clearInterval(timer);
      closing ??= this.#endStream(claim, delivered, sessionUntil);
      return closing;
    };
  }

  /**
   * A delivered download closes its session; then the last stream of a used-up file purges it. A cut-off
   * first stream leaves a job for the end of its session's window, when the file is purged if nobody resumed.
   */
  async #endStream(claim: Claim, delivered: boolean, sessionUntil: Date | undefined): Promise<void> {
    const fileId = claim.file.id;
    try {
      if (delivered) await this.#deps.files.closeSession(claim);
      const now = this.#clock();
      if (await this.#deps.files.endStream(claim, now)) await this.#purgeUsedUp(fileId);
      else if (!delivered && sessionUntil) {
        await this.#deps.purges.enqueuePurge(fileId, 'session-ended', Math.max(0, sessionUntil.getTime() - now.getTime()));
      }
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

/** One chunk, decrypted on the first read: a failed check errors the stream, as the streaming path does. */
function decryptedWhenRead(sealed: Buffer, key: Buffer): Readable {
  return new Readable({
    read() {
      let plain: Buffer;
      try {
        plain = decryptWhole(key, sealed);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      if (plain.length > 0) this.push(plain);
      this.push(null);
    },
  });
}

/** The stream itself when the whole of it is wanted (most downloads): no extra stage per chunk. */
function whole(source: Readable, from: number, to: number, size: number, sourceStart = 0): Readable {
  return from === sourceStart && to === size - 1 ? source : byteRange(source, sourceStart, from, to);
}

interface DescribedPart extends PartMeta {
  readonly blob: string;
  readonly size: number;
}

/**
 * The metadata of what a download sends, opened with the key. The zip's length needs no CRC (its fields
 * have a fixed width), so a HEAD never reads a byte of the content.
 */
function describe(record: FileRecord, key: Buffer): { meta: FileMeta; parts: DescribedPart[] } {
  const [head] = record.parts;
  const first = head ? { ...openMeta(head, key), blob: head.blob, size: head.size ?? 0 } : undefined;
  if (first?.e2e) return describeEndToEnd(record, first, first.e2e);
  const parts = record.parts.map((part) => ({ ...openMeta(part, key), blob: part.blob, size: part.size ?? 0 }));
  const single = parts.length === 1 ? first : undefined;
  const size = single ? record.size : zipSize(parts);
  return {
    meta: {
      fileName: single ? single.name : `one-time-${record.parts.length}-files.zip`,
      contentType: single ? single.contentType : 'application/zip',
      size,
      etag: first?.etag,
      expiresAt: record.expiresAt,
      downloadsLeft: record.downloadsLeft,
      e2eMeta: undefined,
    },
    parts,
  };
}

/** A sender-encrypted file: its chunks, one after the other, as one opaque file; only the first has metadata. */
function describeEndToEnd(
  record: FileRecord,
  first: DescribedPart,
  e2e: EndToEndInfo,
): { meta: FileMeta; parts: DescribedPart[] } {
  const parts = record.parts.map((part) => ({ ...first, blob: part.blob, size: part.size ?? 0 }));
  return {
    meta: {
      fileName: END_TO_END_FILE_NAME,
      contentType: 'application/octet-stream',
      size: record.size,
      etag: first.etag,
      expiresAt: record.expiresAt,
      downloadsLeft: record.downloadsLeft,
      e2eMeta: e2e.meta,
    },
    parts,
  };
}

function openMeta(part: FileRecord['parts'][number], key: Buffer): PartMeta {
  if (part.meta === undefined) throw new AppError('NOT_FOUND');
  return JSON.parse(open(key, part.meta, part.blob)) as PartMeta;
}
