import type { Readable } from 'node:stream';
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError, parseUploadOptions, type Config } from '@one-time/core';
import type { ChunkedUploadService } from '@one-time/service';
import { allowBody } from './expect-continue.ts';
import { uploadResultBody } from './upload-routes.ts';

/** The create call's body: small JSON, checked before anything is stored. */
const createBody = z
  .object({
    size: z.number().int().positive(),
    meta: z.string().min(1),
    ttl: z.string().max(32).optional(),
    downloads: z.union([z.number(), z.string().max(16)]).optional(),
  })
  .strict();

/**
 * The chunked upload of a file its sender encrypted (see docs/chunked-uploads.md): `POST /uploads`, then
 * `PUT /uploads/:code/:index` per chunk, `GET /uploads/:code` for what arrived, `POST /uploads/:code/complete`.
 * The chunk calls carry the delete token as `Authorization: Bearer <token>`.
 */
export function chunkedUploadRoutes(config: Config, publicUrl: string, chunked: ChunkedUploadService): Router {
  const router = Router();
  const json = express.json({ limit: '16kb', strict: true });

  router.post('/uploads', json, async (req, res) => {
    const parsed = createBody.safeParse(req.body);
    if (!parsed.success)
      throw new AppError(
        'BAD_REQUEST',
        `The body must be {size, meta, ttl?, downloads?}: ${parsed.error.issues[0]?.message ?? ''}`,
      );
    const { size, meta, ttl, downloads } = parsed.data;
    const options = parseUploadOptions(
      { ttl, downloads: downloads === undefined ? undefined : String(downloads) },
      {},
      config.limits,
    );
    const created = await chunked.create({ size, meta, options });
    res.status(201).setHeader('Cache-Control', 'no-store');
    res.json({
      code: created.code,
      url: `${publicUrl}/d/${created.code}`,
      downloadUrl: `${publicUrl}/download/${created.code}`,
      uploadUrl: `${publicUrl}/uploads/${created.code}`,
      chunkSize: created.chunkSize,
      chunks: created.chunks,
      deleteToken: created.deleteToken,
      uploadExpiresAt: created.uploadExpiresAt.toISOString(),
    });
  });

  router.put('/uploads/:code/:index', async (req, res) => {
    const token = bearer(req);
    const index = chunkIndex(req.params.index);
    allowBody(req, res);
    const stored = await chunked.putChunk(req.params.code, token, index, req as Readable);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ index, size: stored.size });
  });

  router.get('/uploads/:code', async (req, res) => {
    const status = await chunked.status(req.params.code, bearer(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(status);
  });

  router.post('/uploads/:code/complete', async (req, res) => {
    const result = await chunked.complete(req.params.code, bearer(req));
    res.status(201).setHeader('Cache-Control', 'no-store');
    res.json(uploadResultBody(publicUrl, result));
  });

  return router;
}

/** The delete token handed out by the create call. */
function bearer(req: Request): string {
  const token = /^Bearer (\S{1,256})$/.exec(req.get('authorization') ?? '')?.[1];
  if (!token) throw new AppError('UNAUTHORIZED', 'Send the delete token as Authorization: Bearer <token>.');
  return token;
}

function chunkIndex(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new AppError('BAD_REQUEST', 'The chunk index must be a whole number.');
  return Number(text);
}
