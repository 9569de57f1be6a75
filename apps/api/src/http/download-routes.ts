import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import { AppError, contentDisposition } from '@one-time/core';
import { IntegrityError } from '@one-time/crypto';
import { isInlineSafe, type DownloadService, type FileMeta, type Log } from '@one-time/service';

const INLINE_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

/**
 * `GET /download/:code` (and `POST`, from the landing page) consumes one download; `HEAD` answers the same headers
 * and consumes nothing.
 */
export function downloadRoutes(
  downloads: DownloadService,
  log: Log,
  onBytesOut: (bytes: number) => void = () => undefined,
): Router {
  const router = Router();

  const serve = async (code: string, res: Response, disposition: Disposition): Promise<void> => {
    const download = await downloads.open(code);
    setFileHeaders(res, download, disposition);
    res.status(200);
    try {
      const sending = pipeline(download.stream, res);
      // Counted on the side: pipeline has already made the stream flow, so this listener only observes.
      download.stream.on('data', (chunk: Buffer) => onBytesOut(chunk.length));
      await sending;
    } catch (error) {
      // The client went away, or storage failed mid-stream: the response is cut off, never ended cleanly,
      // so a partial file cannot pass for a whole one.
      if (error instanceof IntegrityError) log.error({ err: error }, 'stored file failed its integrity check; download aborted');
      else if (!res.writableFinished) log.warn({ err: error }, 'download stream ended early');
      res.destroy();
    } finally {
      await download.close();
    }
  };

  router.head('/download/:code', async (req, res) => {
    const meta = await downloads.peek(req.params.code);
    setFileHeaders(res, meta, 'as-typed');
    res.status(200).end();
  });

  router.get('/download/:code', async (req, res) => {
    await serve(req.params.code, res, 'as-typed');
  });

  // The landing page's button: a form POST, which link previewers never send. Always an attachment, so the
  // browser saves the file and stays on the page.
  router.post('/download/:code', async (req, res) => {
    try {
      await serve(req.params.code, res, 'attachment');
    } catch (error) {
      // A browser that posted the form gets the landing page back, which says in words what happened.
      if (!(error instanceof AppError) || res.headersSent || req.accepts(['application/json', 'text/html']) !== 'text/html')
        throw error;
      res.redirect(303, `/d/${encodeURIComponent(req.params.code)}?error=${error.code}`);
    }
  });

  return router;
}

/** `as-typed`: inline when the type is safe to show, else attachment. */
type Disposition = 'as-typed' | 'attachment';

function setFileHeaders(res: Response, meta: FileMeta, disposition: Disposition): void {
  res.setHeader('Content-Type', meta.contentType);
  if (meta.size !== undefined) res.setHeader('Content-Length', String(meta.size));
  const inline = disposition === 'as-typed' && isInlineSafe(meta.contentType);
  res.setHeader('Content-Disposition', contentDisposition(meta.fileName, inline ? 'inline' : 'attachment'));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Nothing served from here may run: a sandboxed, script-less document; media may load itself.
  res.setHeader('Content-Security-Policy', inline ? INLINE_CSP : "sandbox; default-src 'none'");
  res.setHeader('X-Expires-At', meta.expiresAt.toISOString());
}
