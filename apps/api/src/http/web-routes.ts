import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router, type Response } from 'express';
import type { Log } from '@one-time/service';
import { AppError } from '@one-time/core';
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
 * is the same static document for every code, known or not: fetching it never consumes anything, and a link
 * preview learns nothing about the file. Its script asks `file.info` and downloads only on a click.
 */
export function webRoutes(log: Log, distDir: string = webDistDir): Router {
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
  router.get('/d/:code', (_req, res) => sendPage(res, pages.landing));
  router.get('/favicon.svg', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/svg+xml').send(pages.favicon);
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
}

function readPages(distDir: string): Pages | undefined {
  const files = ['index.html', 'd.html', 'favicon.svg'].map((name) => join(distDir, name));
  if (!files.every((file) => existsSync(file))) return undefined;
  const [send, landing, favicon] = files.map((file) => readFileSync(file, 'utf8')) as [string, string, string];
  return { send, landing, favicon };
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
