import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import {
  AppError,
  type FilePart,
  type Limits,
  type PartMeta,
  type Timing,
  type UploadOptions,
  fileIdForCode,
  generateCode,
  fileKeyForCode,
  generateDeleteToken,
  generateEntityTag,
  hashDeleteToken,
  sanitizeFileName,
} from '@one-time/core';
import { CHUNK_BYTES, encryptStream, encryptWhole, seal } from '@one-time/crypto';
import type { FileRepository } from '@one-time/db';
import type { BlobStore } from '@one-time/storage';
import { ByteLimit } from './byte-limit.ts';
import { scheduleExpiry } from './expiry-schedule.ts';
import { SNIFF_BYTES, assertTypeAllowed, sniffContentType } from './content-type.ts';
import { TypeGate } from './type-gate.ts';
import { Utf8Check } from './utf8-check.ts';
import { Crc32Tally } from './crc32-tally.ts';
import { feed, mostTelling } from './request-body.ts';
import { readIfSmall } from './small-body.ts';
import { systemClock, type Clock, type Log, type PurgeScheduler, type UploadMetrics } from './ports.ts';

export interface UploadServiceDeps {
  readonly files: FileRepository;
  readonly blobs: BlobStore;
  readonly purges: PurgeScheduler;
  readonly limits: Limits;
  readonly timing: Timing;
  readonly types: { readonly allowed: readonly string[]; readonly denied: readonly string[] };
  readonly log: Log;
  readonly clock?: Clock;
  readonly metrics?: UploadMetrics;
}

export interface PartInput {
  readonly name: string | undefined;
  /** When the client declared the length (a PUT with Content-Length), a shorter body is an incomplete upload. */
  readonly declaredSize?: number;
}

/** A part as this session knows it, in plain form; it never reaches MongoDB unsealed. */
export interface StoredPart extends PartMeta {
  readonly blob: string;
  readonly size: number;
}

export interface UploadResult {
  /** The secret: handed to the uploader once, never stored. */
  readonly code: string;
  readonly deleteToken: string;
  readonly size: number;
  readonly expiresAt: Date;
  readonly downloadsLeft: number;
  readonly files: ReadonlyArray<{ name: string; size: number; contentType: string }>;
}

/** Parts up to one encryption chunk are read whole and stored in one piece (see `#storeWhole`). */
const WHOLE_PART_BYTES = CHUNK_BYTES;

export class UploadService {
  readonly #deps: UploadServiceDeps;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
  }

  /** One session per request; nothing is written until the first part arrives. */
  begin(): UploadSession {
    return new UploadSession(this.#deps);
  }
}

/**
 * One upload, possibly of several parts. The record is written (state `uploading`, with a deadline) before
 * the first blob, and each part's blob name is added to it before the blob is written, so MongoDB always
 * knows every blob: a crash at any point leaves work the sweeper can find.
 */
export class UploadSession {
  readonly #deps: UploadServiceDeps;
  readonly #clock: Clock;
  readonly #code = generateCode();
  readonly #deleteToken = generateDeleteToken();
  readonly #etag = generateEntityTag();
  readonly #fileId = fileIdForCode(this.#code);
  readonly #key = fileKeyForCode(this.#code);
  readonly #tally = { bytes: 0 };
  readonly #parts: StoredPart[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  #started: Promise<void> | undefined;
  #closed = false;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  /** Streams one part into storage. Parts get sequential blob names under the file id. */
  addPart(source: Readable, input: PartInput): Promise<StoredPart> {
    if (this.#closed) return Promise.reject(new AppError('INTERNAL', 'Upload session already closed.'));
    if (this.#parts.length >= this.#deps.limits.maxFilesPerUpload) {
      source.resume();
      return Promise.reject(new AppError('TOO_MANY_FILES', `At most ${this.#deps.limits.maxFilesPerUpload} files per upload.`));
    }
    const part: StoredPart = {
      blob: `${this.#fileId}/${this.#parts.length}`,
      name: sanitizeFileName(input.name),
      contentType: 'application/octet-stream',
      size: 0,
    };
    const index = this.#parts.push(part) - 1;
    const work = this.#storePart(source, part, input.declaredSize).then((stored) => {
      this.#parts[index] = stored;
      return stored;
    });
    this.#track(work);
    return work;
  }

  async #storePart(source: Readable, part: StoredPart, declaredSize: number | undefined): Promise<StoredPart> {
    try {
      await this.#listPart(part);
    } catch (error) {
      source.resume(); // let the request body drain so the client gets its answer
      throw error;
    }
    const whole = await readIfSmall(source, WHOLE_PART_BYTES);
    const stored = whole ? await this.#storeWhole(whole, part) : await this.#storeStreamed(source, part);
    if (declaredSize !== undefined && stored.size !== declaredSize) throw new AppError('UPLOAD_INCOMPLETE');
    return stored;
  }

  /**
   * A small part, whole: the same checks and the same stored bytes as the streamed path, without its five
   * stream stages (most uploads are small, and those stages cost them more than the encryption does).
   */
  async #storeWhole(plain: Buffer, part: StoredPart): Promise<StoredPart> {
    this.#tally.bytes += plain.length;
    this.#deps.metrics?.bytesIn(plain.length);
    const max = this.#deps.limits.maxUploadBytes;
    if (this.#tally.bytes > max) throw new AppError('PAYLOAD_TOO_LARGE', undefined, { details: { maxBytes: max } });
    const contentType = await this.#typeOf(plain.subarray(0, SNIFF_BYTES));
    await this.#deps.blobs.write(part.blob, Readable.from([encryptWhole(this.#key, plain)]));
    return { ...part, size: plain.length, contentType: withCharset(contentType, isUtf8(plain)), crc32: crc32(plain) };
  }

  async #storeStreamed(source: Readable, part: StoredPart): Promise<StoredPart> {
    // size cap → type gate → encryption → storage; only ciphertext leaves this process. The gate refuses a
    // type as soon as the first bytes show it, before anything past them is stored.
    const limit = new ByteLimit(this.#tally, this.#deps.limits.maxUploadBytes);
    const gate = new TypeGate(SNIFF_BYTES, (head) => this.#typeOf(head));
    const utf8 = new Utf8Check();
    const crc = new Crc32Tally();
    const encrypt = encryptStream(this.#key);
    // Wait for every side, so no block is still being staged when a failed part is cleaned up.
    const results = await Promise.allSettled([
      feed(source, limit),
      pipeline(limit, gate, utf8, crc, encrypt),
      this.#deps.blobs.write(part.blob, encrypt),
    ]);
    this.#deps.metrics?.bytesIn(limit.bytes);
    if (results.some((result) => result.status === 'rejected')) throw mostTelling(results);
    return { ...part, size: limit.bytes, contentType: withCharset(gate.decision, utf8.valid), crc32: crc.value };
  }

  /** The part's type from its first bytes; refused (UNSUPPORTED_TYPE) when the configuration excludes it. */
  async #typeOf(head: Buffer): Promise<string> {
    const contentType = await sniffContentType(head);
    assertTypeAllowed(contentType, this.#deps.types.allowed, this.#deps.types.denied);
    return contentType;
  }

  /**
   * Lists the part's blob in the record before a byte of it is stored. The first part comes with the record
   * itself (one write instead of two); later ones are added to it.
   */
  async #listPart(part: StoredPart): Promise<void> {
    if (!this.#started) {
      this.#started = this.#deps.files.createUpload({
        id: this.#fileId,
        deleteTokenHash: hashDeleteToken(this.#deleteToken),
        createdAt: this.#clock(),
        deadline: new Date(this.#clock().getTime() + this.#deps.timing.uploadDeadlineMs),
        parts: [{ blob: part.blob }],
      });
      await this.#started;
      return;
    }
    await this.#started;
    if (!(await this.#deps.files.addPart(this.#fileId, { blob: part.blob }))) throw new AppError('UPLOAD_TIMEOUT');
  }

  /** Waits for every part, then makes the file available and schedules its expiry. */
  async finish(options: UploadOptions): Promise<UploadResult> {
    await this.#settle(true);
    if (this.#parts.length === 0) throw new AppError('NO_FILE');
    this.#closed = true;
    const now = this.#clock();
    const expiresAt = new Date(now.getTime() + options.ttlMs);
    const size = this.#parts.reduce((sum, part) => sum + part.size, 0);
    const ready = await this.#deps.files.markReady(this.#fileId, {
      size,
      parts: this.#parts.map((part) => this.#sealed(part)),
      expiresAt,
      downloadsLeft: options.downloads,
    });
    if (!ready) throw new AppError('UPLOAD_TIMEOUT');
    await scheduleExpiry(this.#deps, this.#fileId, expiresAt);
    return {
      code: this.#code,
      deleteToken: this.#deleteToken,
      size,
      expiresAt,
      downloadsLeft: options.downloads,
      files: this.#parts.map((part) => ({ name: part.name, size: part.size, contentType: part.contentType })),
    };
  }

  /** What MongoDB keeps of a part: its blob, its size, and its name and type sealed with the file key. */
  #sealed(part: StoredPart): FilePart {
    const meta: PartMeta = { name: part.name, contentType: part.contentType, crc32: part.crc32, etag: this.#etag };
    return { blob: part.blob, size: part.size, meta: seal(this.#key, JSON.stringify(meta), part.blob) };
  }

  /** Removes whatever this upload stored. If storage or MongoDB is down, the sweeper finishes the job later. */
  async abort(): Promise<void> {
    this.#closed = true;
    await this.#settle(false);
    if (!this.#started) return;
    try {
      await this.#started;
    } catch {
      return; // no record was written
    }
    for (const part of this.#parts) {
      try {
        await this.#deps.blobs.delete(part.blob);
      } catch (error) {
        // Storage is down: the record goes anyway (a failed upload must leave none), and reconciliation removes
        // the blob, or its staged blocks, once storage answers again.
        this.#deps.log.warn({ fileId: this.#fileId, err: error }, 'blob of a failed upload left to reconciliation');
      }
    }
    try {
      await this.#deps.files.deleteUpload(this.#fileId);
    } catch (error) {
      this.#deps.log.warn({ fileId: this.#fileId, err: error }, 'upload cleanup deferred to the sweeper');
    }
  }

  #track(work: Promise<unknown>): void {
    this.#pending.add(work);
    work.catch(() => undefined).finally(() => this.#pending.delete(work));
  }

  /** Waits for every part in flight; with `rethrow`, the first failure is thrown. */
  async #settle(rethrow: boolean): Promise<void> {
    while (this.#pending.size > 0) {
      const results = await Promise.allSettled([...this.#pending]);
      const failed = results.find((result) => result.status === 'rejected');
      if (rethrow && failed) throw failed.reason;
    }
  }
}

/**
 * Text is served as UTF-8 only when every byte is valid UTF-8; text whose head looked fine but whose rest is
 * not is no text at all, and is served as opaque bytes.
 */
function withCharset(sniffed: string, validUtf8: boolean): string {
  if (sniffed !== 'text/plain') return sniffed;
  return validUtf8 ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}
