import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AppError,
  type EndToEndInfo,
  type FilePart,
  type FileRecord,
  type PartMeta,
  type UploadOptions,
  chunkCount,
  chunkLength,
  deleteTokenMatches,
  fileIdForCode,
  fileKeyForCode,
  generateCode,
  generateDeleteToken,
  generateEntityTag,
  hashDeleteToken,
  isAvailable,
  isWellFormedCode,
} from '@one-time/core';
import { encryptStream, open, seal } from '@one-time/crypto';
import { ByteLimit } from './byte-limit.ts';
import { END_TO_END_FILE_NAME } from './download-service.ts';
import { scheduleExpiry } from './expiry-schedule.ts';
import { systemClock, type Clock } from './ports.ts';
import { feed, mostTelling } from './request-body.ts';
import type { UploadResult, UploadServiceDeps } from './upload-service.ts';

/**
 * Chunks are this size (the last one smaller): a browser holds one or two of them in memory while it sends,
 * and a dropped connection costs at most one chunk again.
 */
export const CHUNK_SIZE = 8 * 1024 * 1024;

/** The sealed metadata is a short string (name, type, size): anything longer is not one. */
export const MAX_SEALED_META_LENGTH = 4096;

/**
 * The same as a plain upload's. The type rules cannot be applied to bytes the server cannot read: with any
 * rule set, end-to-end uploads are refused.
 */
export type ChunkedUploadServiceDeps = UploadServiceDeps;

export interface NewChunkedUpload {
  /** Total bytes the sender will upload (ciphertext). */
  readonly size: number;
  /** The sender's sealed metadata, stored as it comes. */
  readonly meta: string;
  readonly options: UploadOptions;
}

export interface CreatedChunkedUpload {
  readonly code: string;
  readonly deleteToken: string;
  readonly chunkSize: number;
  readonly chunks: number;
  /** An upload not completed by then is swept away with what it stored. */
  readonly uploadExpiresAt: Date;
}

export interface ChunkedUploadStatus {
  readonly size: number;
  readonly chunkSize: number;
  readonly chunks: number;
  /** The indexes of the chunks stored, in order. */
  readonly stored: readonly number[];
  /** The bytes of those chunks. */
  readonly received: number;
}

/** An upload in progress, as one request sees it once the code and token are checked. */
interface Pending {
  readonly record: FileRecord;
  readonly info: EndToEndInfo;
  readonly key: Buffer;
}

/**
 * Uploads of files their senders encrypted (end to end), in chunks over several requests — and possibly over
 * several API processes, so everything lives in the record: it is created with every chunk's blob name
 * listed (the sweeper knows all blobs from the start), its first part carries the plan (size, chunk size,
 * options, the sealed metadata) sealed with the code's key. A chunk is stored when its blob exists: blob
 * writes are atomic. Completing is the one conditional write `uploading` → `ready`.
 *
 * The chunk calls need the code (it derives the record's id and the at-rest key) and the delete token (whose
 * hash the record holds): the code alone, which the sender hands out, does not let anyone add bytes.
 */
export class ChunkedUploadService {
  readonly #deps: ChunkedUploadServiceDeps;
  readonly #clock: Clock;
  /** Chunks being written by this process: a second write of one while the first runs is refused. */
  readonly #sending = new Set<string>();

  constructor(deps: ChunkedUploadServiceDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  async create(upload: NewChunkedUpload): Promise<CreatedChunkedUpload> {
    if (this.#deps.types.allowed.length > 0 || this.#deps.types.denied.length > 0) {
      throw new AppError(
        'UNSUPPORTED_TYPE',
        'This server accepts or refuses files by type, which it cannot check in a file encrypted end to end; send it without end-to-end encryption.',
      );
    }
    if (!Number.isSafeInteger(upload.size) || upload.size < 1)
      throw new AppError('BAD_REQUEST', 'size must be a whole number of bytes, at least 1.');
    if (upload.size > this.#deps.limits.maxUploadBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', undefined, { details: { maxBytes: this.#deps.limits.maxUploadBytes } });
    }
    if (upload.meta.length === 0 || upload.meta.length > MAX_SEALED_META_LENGTH || !/^[A-Za-z0-9_-]+$/.test(upload.meta)) {
      throw new AppError('BAD_REQUEST', `meta must be base64url, at most ${MAX_SEALED_META_LENGTH} characters.`);
    }
    const code = generateCode();
    const deleteToken = generateDeleteToken();
    const fileId = fileIdForCode(code);
    const info: EndToEndInfo = {
      meta: upload.meta,
      size: upload.size,
      chunkSize: CHUNK_SIZE,
      ttlMs: upload.options.ttlMs,
      downloads: upload.options.downloads,
    };
    const chunks = chunkCount(info);
    const now = this.#clock();
    const uploadExpiresAt = new Date(now.getTime() + this.#deps.timing.uploadDeadlineMs);
    const plan: PartMeta = {
      name: END_TO_END_FILE_NAME,
      contentType: 'application/octet-stream',
      etag: generateEntityTag(),
      e2e: info,
    };
    const key = fileKeyForCode(code);
    const parts: FilePart[] = Array.from({ length: chunks }, (_, index) => ({ blob: `${fileId}/${index}` }));
    parts[0] = { blob: `${fileId}/0`, meta: seal(key, JSON.stringify(plan), `${fileId}/0`) };
    await this.#deps.files.createUpload({
      id: fileId,
      deleteTokenHash: hashDeleteToken(deleteToken),
      createdAt: now,
      deadline: uploadExpiresAt,
      parts,
    });
    return { code, deleteToken, chunkSize: CHUNK_SIZE, chunks, uploadExpiresAt };
  }

  /**
   * Stores chunk `index` (replacing it if it was stored already), encrypted at rest like every upload. The
   * body must be exactly the chunk's length: more is refused as it arrives, less when it ends; either way
   * nothing of the chunk remains and the client sends it again.
   */
  async putChunk(code: string, deleteToken: string, index: number, body: Readable): Promise<{ size: number }> {
    let pending: Pending;
    let length: number;
    try {
      pending = await this.#pending(code, deleteToken);
      length = this.#chunkLength(pending.info, index);
    } catch (error) {
      body.resume(); // let the body drain so the client gets its answer
      throw error;
    }
    const blob = pending.record.parts[index]?.blob ?? '';
    if (this.#sending.has(blob)) {
      body.resume();
      throw new AppError('CHUNK_BUSY');
    }
    this.#sending.add(blob);
    try {
      return await this.#store(pending, blob, index, length, body);
    } finally {
      this.#sending.delete(blob);
    }
  }

  async #store(pending: Pending, blob: string, index: number, length: number, body: Readable): Promise<{ size: number }> {
    const limit = new ByteLimit({ bytes: 0 }, length);
    const encrypt = encryptStream(pending.key);
    const results = await Promise.allSettled([
      feed(body, limit),
      pipeline(limit, encrypt),
      this.#deps.blobs.write(blob, encrypt),
    ]);
    this.#deps.metrics?.bytesIn(limit.bytes);
    if (results.some((result) => result.status === 'rejected')) throw mostTelling(results); // the store removed it
    if (limit.bytes !== length) {
      await this.#deps.blobs.delete(blob);
      throw new AppError('UPLOAD_INCOMPLETE', `Chunk ${index} must be exactly ${length} bytes.`);
    }
    return { size: length };
  }

  async status(code: string, deleteToken: string): Promise<ChunkedUploadStatus> {
    const pending = await this.#pending(code, deleteToken);
    const { stored, received } = await this.#stored(pending);
    const { size, chunkSize } = pending.info;
    return { size, chunkSize, chunks: chunkCount(pending.info), stored, received };
  }

  /**
   * Makes the link work, once every chunk is stored; then the file lives by the options chosen at creation.
   * Asked again once it worked (its answer was lost on the way), it answers the same as long as the file is
   * there.
   */
  async complete(code: string, deleteToken: string): Promise<UploadResult> {
    const upload = await this.#upload(code, deleteToken);
    if (upload.record.state === 'ready' && isAvailable(upload.record, this.#clock())) {
      return completed(code, deleteToken, upload.record);
    }
    if (upload.record.state !== 'uploading') throw new AppError('NOT_FOUND', 'No upload in progress under this code.');
    const { stored } = await this.#stored(upload);
    const chunks = chunkCount(upload.info);
    if (stored.length !== chunks) {
      const missing = missingIndexes(stored, chunks);
      throw new AppError(
        'CHUNKS_MISSING',
        `${missing.length} of ${chunks} chunks are not stored yet: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}.`,
      );
    }
    const { info, record } = upload;
    const expiresAt = new Date(this.#clock().getTime() + info.ttlMs);
    const parts = record.parts.map((part, index) => ({ ...part, size: chunkLength(info, index) }));
    const ready = { size: info.size, parts, expiresAt, downloadsLeft: info.downloads };
    if (!(await this.#deps.files.markReady(record.id, ready))) throw new AppError('NOT_FOUND');
    await scheduleExpiry(this.#deps, record.id, expiresAt);
    return completed(code, deleteToken, { ...record, ...ready });
  }

  /** The upload behind a code, if it is still in progress and the token is its delete token. */
  async #pending(code: string, deleteToken: string): Promise<Pending> {
    const upload = await this.#upload(code, deleteToken);
    if (upload.record.state !== 'uploading') throw new AppError('NOT_FOUND', 'No upload in progress under this code.');
    return upload;
  }

  /** A chunked upload in any state, once the token is checked against it. */
  async #upload(code: string, deleteToken: string): Promise<Pending> {
    if (!isWellFormedCode(code)) throw new AppError('INVALID_CODE');
    const record = await this.#deps.files.findById(fileIdForCode(code));
    const head = record?.parts[0];
    if (!record || head?.meta === undefined) throw new AppError('NOT_FOUND', 'No upload in progress under this code.');
    if (!deleteTokenMatches(deleteToken, record.deleteTokenHash)) throw new AppError('FORBIDDEN');
    const key = fileKeyForCode(code);
    const plan = JSON.parse(open(key, head.meta, head.blob)) as PartMeta;
    if (!plan.e2e) throw new AppError('NOT_FOUND', 'No upload in progress under this code.');
    return { record, info: plan.e2e, key };
  }

  #chunkLength(info: EndToEndInfo, index: number): number {
    const chunks = chunkCount(info);
    if (!Number.isSafeInteger(index) || index < 0 || index >= chunks) {
      throw new AppError('BAD_REQUEST', `This upload has chunks 0 to ${chunks - 1}.`);
    }
    return chunkLength(info, index);
  }

  async #stored(pending: Pending): Promise<{ stored: number[]; received: number }> {
    const present = await Promise.all(pending.record.parts.map((part) => this.#deps.blobs.exists(part.blob)));
    const stored = present.flatMap((exists, index) => (exists ? [index] : []));
    return { stored, received: stored.reduce((sum, index) => sum + chunkLength(pending.info, index), 0) };
  }
}

function completed(
  code: string,
  deleteToken: string,
  file: Pick<FileRecord, 'size' | 'expiresAt' | 'downloadsLeft'>,
): UploadResult {
  return {
    code,
    deleteToken,
    size: file.size,
    expiresAt: file.expiresAt,
    downloadsLeft: file.downloadsLeft,
    files: [{ name: END_TO_END_FILE_NAME, size: file.size, contentType: 'application/octet-stream' }],
  };
}

function missingIndexes(stored: readonly number[], chunks: number): number[] {
  const have = new Set(stored);
  return Array.from({ length: chunks }, (_, index) => index).filter((index) => !have.has(index));
}
