/**
 * What the metadata store keeps about one upload. `id` is the one-way file id derived from the code; the code
 * itself is never stored. The lifecycle is `uploading` → `ready` → `purging` → (record deleted), and never
 * goes back: once a purge began, no claim, give-back or stream end can make the record `ready` again.
 */
export type FileState = 'uploading' | 'ready' | 'purging';

export interface FilePart {
  /** The blob holding this part; written into the record before the blob exists. */
  readonly blob: string;
  /** Plaintext size, known once the part is stored. */
  readonly size?: number;
  /** Name and content type, sealed with the key derived from the code: unreadable without it. */
  readonly meta?: string;
}

/** What `FilePart.meta` holds once opened. */
export interface PartMeta {
  readonly name: string;
  readonly contentType: string;
  /** CRC-32 of the plaintext, so a zip of several parts can write every header before reading a byte. */
  readonly crc32?: number;
  /** The file's strong validator (`ETag`), random; the first part's serves for the whole download. */
  readonly etag?: string;
  /** Only on the first part of a file its sender encrypted: the parts are chunks of one ciphertext. */
  readonly e2e?: EndToEndInfo;
}

/**
 * A file encrypted by its sender (end to end) and uploaded in chunks: its parts are consecutive chunks of one
 * ciphertext the server cannot read, served one after the other as a single opaque file.
 */
export interface EndToEndInfo {
  /** The sender's sealed metadata (name, type, size), opaque here; handed to whoever holds the code. */
  readonly meta: string;
  /** Total bytes (ciphertext) the sender declared; the chunks add up to exactly this. */
  readonly size: number;
  /** Every chunk but the last has exactly this many bytes. */
  readonly chunkSize: number;
  /** The options chosen at creation, applied when the upload completes. */
  readonly ttlMs: number;
  readonly downloads: number;
}

/** How many chunks an end-to-end upload of `size` bytes has. */
export function chunkCount(info: Pick<EndToEndInfo, 'size' | 'chunkSize'>): number {
  return Math.ceil(info.size / info.chunkSize);
}

/** The exact length of chunk `index`: `chunkSize`, or what is left for the last one. */
export function chunkLength(info: Pick<EndToEndInfo, 'size' | 'chunkSize'>, index: number): number {
  return Math.min(info.chunkSize, info.size - index * info.chunkSize);
}

export interface FileRecord {
  readonly id: string;
  readonly state: FileState;
  readonly parts: readonly FilePart[];
  readonly size: number;
  readonly createdAt: Date;
  /** While uploading: the upload deadline. Once ready: when the file expires. Revoking sets it to now. */
  readonly expiresAt: Date;
  readonly downloadsLeft: number;
  /** Download streams in flight; a blob is never deleted while one is. */
  readonly activeStreams: number;
  /** Refreshed by streaming downloads; a stale lease means the stream's process died. */
  readonly leaseUntil: Date | null;
  readonly deleteTokenHash: string;
}

/** A file is downloadable when ready, with downloads left and not expired. */
export function isAvailable(record: FileRecord, now: Date): boolean {
  return record.state === 'ready' && record.downloadsLeft > 0 && record.expiresAt > now;
}
