import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import type { Log } from '@one-time/service';
import { AppError, isWellFormedCode } from '@one-time/core';
import { webDistDir } from '@one-time/web';

/** The pages run only our own script and style; they load nothing from elsewhere (closed LANs). */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /` (send) and `GET /d/:code` (the landing page of a share link) plus their hashed assets. The landing page
 * is the same document for every code, known or not (only the direct link for readers without JavaScript is
 * filled in): fetching it never consumes anything, and a link preview learns nothing about the file. Its script
 * asks `file.info` and downloads only on a click. A client that does not ask for HTML gets a short text instead.
 */
export function webRoutes(log: Log, publicUrl: string, distDir: string = webDistDir): Router {
  const router = Router();
  const pages = readPages(distDir);
  if (pages === undefined) {
    log.warn({ distDir }, 'the web page is not built (npm run build); / and /d/:code answer 404');
    return router;
  }
  router.use(
    '/assets',
    express.static(join(distDir, 'assets'), { index: false, immutable: true, maxAge: '365d', redirect: false }),
    () => {
      throw new AppError('NOT_FOUND', 'No such file.');
    },
  );
  router.get('/', (_req, res) => sendPage(res, pages.send));
  router.get('/d/:code', (req, res) => {
    const directLink = isWellFormedCode(req.params.code) ? `${publicUrl}/download/${req.params.code}` : undefined;
    if (wantsPage(req)) sendPage(res, landingPage(pages.landing, directLink));
    else sendTerminalHint(res, directLink);
  });
  router.get('/favicon.svg', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/svg+xml').send(pages.favicon);
  });
  // The landing page's Service Worker decrypts end-to-end downloads; at the root, so its scope is the site.
  router.get('/sw.js', (_req, res) => {
    if (pages.serviceWorker === undefined) throw new AppError('NOT_FOUND', 'No such file.');
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/javascript').send(pages.serviceWorker);
  });
  router.get('/favicon.ico', () => {
    throw new AppError('NOT_FOUND', 'No such endpoint.');
  });
  return router;
}

interface Pages {
  readonly send: string;
  readonly landing: string;
  readonly favicon: string;
  readonly serviceWorker: string | undefined;
}

function readPages(distDir: string): Pages | undefined {
  const files = ['index.html', 'd.html', 'favicon.svg'].map((name) => join(distDir, name));
  if (!files.every((file) => existsSync(file))) return undefined;
  const [send, landing, favicon] = files.map((file) => readFileSync(file, 'utf8')) as [string, string, string];
  const worker = join(distDir, 'sw.js');
  return { send, landing, favicon, serviceWorker: existsSync(worker) ? readFileSync(worker, 'utf8') : undefined };
}

/** Browsers ask for HTML by name; curl, wget and scripts send `*\/*` or nothing. */
function wantsPage(req: Request): boolean {
  return /\b(text\/html|application\/xhtml\+xml)\b/i.test(req.headers.accept ?? '');
}

/** The direct command for readers without JavaScript; the code is well-formed (URL-safe) or absent. */
function landingPage(html: string, directLink: string | undefined): string {
  return html.replace('{{direct-link}}', directLink ?? 'this address with /download/ in place of /d/');
}

/**
 * A terminal that fetched the share link would save this page as the file. It gets a short text instead,
 * with the command that downloads, and a 406 so that `curl -f` fails rather than saving anything. Nothing is
 * consumed and the file is not named.
 */
function sendTerminalHint(res: Response, directLink: string | undefined): void {
  const text = directLink
    ? `This is the page of a one-time file, for a browser. To download the file from a terminal (this uses it up):\n\n  curl -fOJ ${directLink}\n`
    : 'This is not a well-formed one-time link.\n';
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Robots-Tag', 'noindex, nofollow');
  res.status(406).type('text/plain; charset=utf-8').send(text);
}

function sendPage(res: Response, html: string): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  // Share links are private: no search engine should keep one, no cache should hold a page.
  res.setHeader('X-Robots-Tag', 'noindex, nofollow');
  res.setHeader('Cache-Control', 'no-store');
  res.type('html').send(html);
}
