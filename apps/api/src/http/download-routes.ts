import type { Readable } from 'node:stream';
import { Router, type Request, type Response } from 'express';
import { AppError, contentDisposition } from '@one-time/core';
import { IntegrityError } from '@one-time/crypto';
import { isInlineSafe, type DownloadService, type FileMeta, type Log } from '@one-time/service';
import { parseRange, quoted, rangeStillValid, servedRange, type RangeAsked } from './byte-ranges.ts';
import { sendSession, sessionSecretFrom } from './download-session.ts';
import { writeStream } from './write-stream.ts';

const INLINE_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

/**
 * `GET /download/:code` (and `POST`, from the landing page) consumes one download and opens its resume
 * session; the same request with that session and a `Range` continues it (206) without consuming another.
 * `HEAD` answers the same headers and consumes nothing.
 */
export function downloadRoutes(
  downloads: DownloadService,
  log: Log,
  onBytesOut: (bytes: number) => void = () => undefined,
): Router {
  const router = Router();

  /** Sends bytes `from`…`to` and reports whether the last byte of the file went out. */
  const send = async (res: Response, stream: Readable, to: number, size: number): Promise<boolean> => {
    try {
      await writeStream(stream, res, onBytesOut);
      return to === size - 1;
    } catch (error) {
      // The client went away, or storage failed mid-stream: the response is cut off, never ended cleanly,
      // so a partial file cannot pass for a whole one. A connection closed already (before ours below) is the
      // client hanging up or stalling past the idle timeout: routine, it may resume, so no warning, no stack.
      const connectionGone = res.destroyed;
      if (error instanceof IntegrityError) log.error({ err: error }, 'stored file failed its integrity check; download aborted');
      else if (connectionGone) log.info({}, 'download cut off: the client left or stalled');
      else if (!res.writableFinished) log.warn({ err: error }, 'download stream ended early');
      res.destroy();
      return false;
    }
  };

  /** A first download: claim it, open its session, send the whole file. */
  const claimAndSend = async (req: Request, res: Response, code: string, disposition: Disposition): Promise<void> => {
    const download = await downloads.open(code);
    let delivered = false;
    try {
      setFileHeaders(res, download, disposition);
      sendSession(req, res, code, download.session, new Date());
      res.status(200).setHeader('Content-Length', String(download.size));
      delivered = await send(res, download.stream, download.size - 1, download.size);
    } finally {
      await download.close(delivered);
    }
  };

  /**
   * A resumed download: the session's secret is required, whatever the range; without a valid one the answer
   * is the 404 of an unknown code. A range the `If-Range` validator voids, or that this server does not serve
   * as such, gets the whole file (200), still under the session.
   */
  const resumeAndSend = async (req: Request, res: Response, code: string, secret: string, disposition: Disposition) => {
    const download = await downloads.resume(code, secret);
    let delivered = false;
    try {
      const asked = rangeStillValid(req.get('if-range'), download.etag) ? parseRange(req.get('range')) : WHOLE;
      const served = servedRange(asked, download.size);
      if (served.kind === 'unsatisfiable') {
        res.setHeader('Content-Range', `bytes */${download.size}`); // on the error answer: no file headers
        throw new AppError('RANGE_NOT_SATISFIABLE');
      }
      setFileHeaders(res, download, disposition);
      const [from, to] = served.kind === 'part' ? [served.from, served.to] : [0, download.size - 1];
      res.status(served.kind === 'part' ? 206 : 200).setHeader('Content-Length', String(to - from + 1));
      if (served.kind === 'part') res.setHeader('Content-Range', `bytes ${from}-${to}/${download.size}`);
      delivered = await send(res, await download.read(from, to), to, download.size);
    } finally {
      await download.close(delivered);
    }
  };

  const serve = async (req: Request, res: Response, code: string, disposition: Disposition): Promise<void> => {
    const secret = sessionSecretFrom(req);
    // A range is only ever part of a download already taken: it never consumes one.
    if (req.get('range') !== undefined) {
      if (secret === undefined) throw new AppError('NOT_FOUND');
      await resumeAndSend(req, res, code, secret, disposition);
      return;
    }
    if (secret !== undefined) {
      try {
        await resumeAndSend(req, res, code, secret, disposition);
        return;
      } catch (error) {
        // A session that ended (or belongs elsewhere) is no reason to refuse a download that is still there.
        if (!(error instanceof AppError && error.code === 'NOT_FOUND') || res.headersSent) throw error;
      }
    }
    await claimAndSend(req, res, code, disposition);
  };

  router.head('/download/:code', async (req, res) => {
    const meta = await downloads.peek(req.params.code);
    setFileHeaders(res, meta, 'as-typed');
    res.setHeader('Content-Length', String(meta.size));
    res.status(200).end();
  });

  router.get('/download/:code', async (req, res) => {
    await serve(req, res, req.params.code, 'as-typed');
  });

  // The landing page's button: a form POST, which link previewers never send. Always an attachment, so the
  // browser saves the file and stays on the page.
  router.post('/download/:code', async (req, res) => {
    try {
      await serve(req, res, req.params.code, 'attachment');
    } catch (error) {
      // A browser that posted the form gets the landing page back, which says in words what happened.
      if (!(error instanceof AppError) || res.headersSent || req.accepts(['application/json', 'text/html']) !== 'text/html')
        throw error;
      res.redirect(303, `/d/${encodeURIComponent(req.params.code)}?error=${error.code}`);
    }
  });

  return router;
}

const WHOLE: RangeAsked = { kind: 'whole' };

/** `as-typed`: inline when the type is safe to show, else attachment. */
type Disposition = 'as-typed' | 'attachment';

function setFileHeaders(res: Response, meta: FileMeta, disposition: Disposition): void {
  res.setHeader('Content-Type', meta.contentType);
  res.setHeader('Accept-Ranges', 'bytes');
  if (meta.etag !== undefined) res.setHeader('ETag', quoted(meta.etag));
  const inline = disposition === 'as-typed' && isInlineSafe(meta.contentType);
  res.setHeader('Content-Disposition', contentDisposition(meta.fileName, inline ? 'inline' : 'attachment'));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Nothing served from here may run: a sandboxed, script-less document; media may load itself.
  res.setHeader('Content-Security-Policy', inline ? INLINE_CSP : "sandbox; default-src 'none'");
  res.setHeader('X-Expires-At', meta.expiresAt.toISOString());
}
