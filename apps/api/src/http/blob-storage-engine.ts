import type { Request } from 'express';
import type multer from 'multer';
import type { UploadSession } from '@one-time/service';

/**
 * A multer storage engine that streams each file part straight into blob storage through the upload session:
 * no memory buffer, no temp file. Cleanup on failure is the session's job, so `_removeFile` has nothing to do.
 */
export class BlobStorageEngine implements multer.StorageEngine {
  readonly #session: UploadSession;

  constructor(session: UploadSession) {
    this.#session = session;
  }

  _handleFile(
    _req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    this.#session.addPart(file.stream, { name: file.originalname }).then(
      (part) => callback(null, { size: part.size ?? 0 }),
      (error: unknown) => callback(error),
    );
  }

  _removeFile(_req: Request, _file: Express.Multer.File, callback: (error: Error | null) => void): void {
    callback(null);
  }
}
