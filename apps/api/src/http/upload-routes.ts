import type { Readable } from 'node:stream';
import { Router, type Request, type Response } from 'express';
import multer from 'multer';
import { AppError, type Config, type UploadOptions, assertOnlyUploadOptions, parseUploadOptions } from '@one-time/core';
import type { UploadResult, UploadService, UploadSession } from '@one-time/service';
import { BlobStorageEngine } from './blob-storage-engine.ts';
import { fromBodyParsing } from './errors.ts';
import { allowBody } from './expect-continue.ts';

/** `POST /upload` (multipart, any file field name) and `PUT /upload/:filename` (raw body, for `curl -T`). */
export function uploadRoutes(config: Config, publicUrl: string, uploads: UploadService): Router {
  const router = Router();

  router.post('/upload', async (req, res) => {
    queryOptions(req, config); // fail fast, before any byte is stored
    if (!req.is('multipart/form-data')) throw new AppError('NOT_MULTIPART');
    refuseOverCap(req, config.limits.maxUploadBytes + MULTIPART_FRAMING_BYTES);
    allowBody(req, res);
    const session = uploads.begin();
    const result = await withSession(session, async () => {
      await receiveMultipart(req, res, session, config);
      return session.finish(parseUploadOptions(fieldsOf(req.body), req.query, config.limits));
    });
    sendUploadResult(req, res, publicUrl, result);
  });

  router.put('/upload/:filename', async (req, res) => {
    const options = queryOptions(req, config);
    const declared = refuseOverCap(req, config.limits.maxUploadBytes);
    allowBody(req, res);
    const session = uploads.begin();
    const result = await withSession(session, async () => {
      await session.addPart(req as Readable, {
        name: req.params.filename,
        ...(declared === undefined ? {} : { declaredSize: declared }),
      });
      return session.finish(options);
    });
    sendUploadResult(req, res, publicUrl, result);
  });

  return router;
}

/** Whatever goes wrong, the session removes what it stored before the error is answered. */
async function withSession<T>(session: UploadSession, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await session.abort();
    throw error;
  }
}

function receiveMultipart(req: Request, res: Response, session: UploadSession, config: Config): Promise<void> {
  const middleware = multer({
    storage: new BlobStorageEngine(session),
    defParamCharset: 'utf8',
    limits: {
      files: config.limits.maxFilesPerUpload,
      fields: 16,
      fieldSize: 256,
      fieldNameSize: 64,
      parts: config.limits.maxFilesPerUpload + 16,
      headerPairs: 64,
    },
  }).any();
  return new Promise((resolve, reject) => {
    middleware(req, res, (error?: unknown) => (error === undefined ? resolve() : reject(fromBodyParsing(error))));
  });
}

function fieldsOf(body: unknown): { ttl?: unknown; downloads?: unknown } {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  assertOnlyUploadOptions('form field', fields);
  return { ttl: fields.ttl, downloads: fields.downloads };
}

/** The options in the query string, checked before anything is read or stored. */
export function queryOptions(req: Request, config: Config): UploadOptions {
  const query = req.query as Record<string, unknown>;
  assertOnlyUploadOptions('query parameter', query);
  return parseUploadOptions({}, query, config.limits);
}

/**
 * A multipart body is the files plus their part headers and boundaries: a declared length this far over the
 * cap cannot be within it, whatever the framing.
 */
const MULTIPART_FRAMING_BYTES = 1024 * 1024;

/** Refuses a declared length over `cap` before the body is read (or, with `Expect: 100-continue`, sent). */
function refuseOverCap(req: Request, cap: number): number | undefined {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > cap) throw new AppError('PAYLOAD_TOO_LARGE');
  return declared;
}

function declaredLength(req: Request): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d{1,16}$/.test(header)) throw new AppError('BAD_REQUEST', 'Content-Length is not a number.');
  return Number(header);
}

function sendUploadResult(req: Request, res: Response, publicUrl: string, result: UploadResult): void {
  // The link to share opens a page that does not consume the file (link previews fetch links); the direct
  // path is for curl and scripts.
  const body = uploadResultBody(publicUrl, result);
  const { url, downloadUrl } = body;
  res.status(201).setHeader('Cache-Control', 'no-store');
  if (req.accepts(['text/plain', 'application/json']) === 'application/json') {
    res.json(body);
    return;
  }
  res.setHeader('X-Delete-Token', result.deleteToken);
  res.setHeader('X-Expires-At', body.expiresAt);
  res.setHeader('X-Download-Url', downloadUrl);
  res.type('text/plain').send(`${url}\n`);
}

/** What a finished upload answers, as JSON (the same for every kind of upload). */
export function uploadResultBody(publicUrl: string, result: UploadResult) {
  return {
    code: result.code,
    url: `${publicUrl}/d/${result.code}`,
    downloadUrl: `${publicUrl}/download/${result.code}`,
    expiresAt: result.expiresAt.toISOString(),
    size: result.size,
    downloadsLeft: result.downloadsLeft,
    deleteToken: result.deleteToken,
    files: result.files,
  };
}
