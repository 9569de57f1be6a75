import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import { contentDisposition } from '@one-time/core';
import { IntegrityError } from '@one-time/crypto';
import { isInlineSafe, type DownloadService, type FileMeta, type Log } from '@one-time/service';

const INLINE_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

/** `GET /download/:code` consumes one download; `HEAD` answers the same headers and consumes nothing. */
export function downloadRoutes(downloads: DownloadService, log: Log): Router {
  const router = Router();

  router.head('/download/:code', async (req, res) => {
    const meta = await downloads.peek(req.params.code);
    setFileHeaders(res, meta);
    res.status(200).end();
  });

  router.get('/download/:code', async (req, res) => {
    const download = await downloads.open(req.params.code);
    setFileHeaders(res, download);
    res.status(200);
    try {
      await pipeline(download.stream, res);
    } catch (error) {
      // The client went away, or storage failed mid-stream: the response is cut off, never ended cleanly,
      // so a partial file cannot pass for a whole one.
      if (error instanceof IntegrityError) log.error({ err: error }, 'stored file failed its integrity check; download aborted');
      else if (!res.writableFinished) log.warn({ err: error }, 'download stream ended early');
      res.destroy();
    } finally {
      await download.close();
    }
  });

  return router;
}

function setFileHeaders(res: Response, meta: FileMeta): void {
  res.setHeader('Content-Type', meta.contentType);
  if (meta.size !== undefined) res.setHeader('Content-Length', String(meta.size));
  const inline = isInlineSafe(meta.contentType);
  res.setHeader('Content-Disposition', contentDisposition(meta.fileName, inline ? 'inline' : 'attachment'));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Nothing served from here may run: a sandboxed, script-less document; media may load itself.
  res.setHeader('Content-Security-Policy', inline ? INLINE_CSP : "sandbox; default-src 'none'");
  res.setHeader('X-Expires-At', meta.expiresAt.toISOString());
}
