import { safeFileName, type Uploaded } from '@one-time/client';
import { encryptStream, encryptedSize, generateKey, keyToFragment, sealMetadata } from '@one-time/e2e';
import { ChunkedUpload, createUpload, type ChunkProgress } from './chunked-upload.ts';
import { zipOfFiles, type PlainSource } from './zip-stream.ts';

export interface EncryptedSendOptions {
  readonly ttl?: string;
  readonly downloads?: number;
  /** In plaintext bytes, so the numbers match the file's size. */
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number }) => void;
  readonly retryDelaysMs?: readonly number[];
}

export interface EncryptedSent extends Uploaded {
  /** The share link with the key in its fragment: `https://host/d/<code>#<key>`. */
  readonly link: string;
  /** Plaintext bytes (the file, or the zip of several). */
  readonly plainSize: number;
}

/**
 * End-to-end encryption in the page: a fresh key, the metadata (name, type, size) sealed with it, the file (or a
 * zip of several) encrypted as a stream and uploaded in chunks. The key never leaves the page except in the link
 * it returns, after `#`, which browsers do not send to servers.
 *
 * `run()` resumes after a failure when `resumable` (a dropped connection, a server that went away for a while):
 * same key, same upload, from the first chunk the server does not have. A reloaded page starts over.
 */
export class EncryptedSend {
  private readonly key = generateKey();
  private readonly source: PlainSource;
  private upload: ChunkedUpload | undefined;
  private result: EncryptedSent | undefined;
  private readonly options: EncryptedSendOptions;

  constructor(files: readonly File[], options: EncryptedSendOptions = {}) {
    this.options = options;
    const [only] = files;
    this.source =
      files.length === 1 && only !== undefined
        ? { name: safeFileName(only.name, 'file'), type: mediaType(only.type), size: only.size, stream: () => only.stream() }
        : zipOfFiles(files);
  }

  get plainSize(): number {
    return this.source.size;
  }

  /** Whether a failed `run()` may be called again to go on where it stopped. */
  get resumable(): boolean {
    return this.upload?.resumable ?? false;
  }

  async run(signal?: AbortSignal): Promise<EncryptedSent> {
    if (this.result) return this.result;
    if (!this.upload) {
      const { name, type, size } = this.source;
      const meta = await sealMetadata(this.key, { name, type, size });
      const total = encryptedSize(size);
      const created = await createUpload(
        {
          size: total,
          meta,
          ...(this.options.ttl === undefined ? {} : { ttl: this.options.ttl }),
          ...(this.options.downloads === undefined ? {} : { downloads: this.options.downloads }),
        },
        signal,
      );
      // Encryption runs as the chunks are read: nothing is encrypted ahead of the upload.
      const ciphertext = this.source.stream().pipeThrough(encryptStream(this.key));
      this.upload = new ChunkedUpload(created, ciphertext, total, {
        onProgress: (progress) => this.report(progress),
        ...(this.options.retryDelaysMs ? { retryDelaysMs: this.options.retryDelaysMs } : {}),
      });
    }
    const uploaded = await this.upload.run(signal);
    this.result = { ...uploaded, link: `${uploaded.url}#${keyToFragment(this.key)}`, plainSize: this.source.size };
    return this.result;
  }

  abandon(): void {
    this.upload?.abandon();
  }

  private report({ sent, total }: ChunkProgress): void {
    const plain = this.source.size;
    this.options.onProgress?.({ sent: total === 0 ? 0 : Math.floor((sent / total) * plain), total: plain });
  }
}

/** A type the metadata can hold (printable ASCII, 255 characters at most), or the generic one. */
function mediaType(type: string): string {
  return type !== '' && type.length <= 255 && /^[\x20-\x7e]+$/.test(type) ? type : 'application/octet-stream';
}
