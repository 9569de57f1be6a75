import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '@one-time/core';
import { isProbe } from '@one-time/ops';
import { routeOf } from './route-table.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** tRPC procedure names (`file.info`) are kept; a code has no dot. */
const PROCEDURE = /^[A-Za-z]+(\.[A-Za-z]+)+$/;
const REDACTED = '[redacted]';

/**
 * Keeps a URL's route (from the route table) and nothing that may be secret or personal: the query string is
 * dropped, and every segment after the route's mount path (a code, an upload's file name) or of a path no
 * route serves becomes `[redacted]`, except a tRPC procedure name. `/download/<code>?x=1` → `/download/[redacted]`.
 */
export function redactUrl(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  const segments = path.split('/');
  const route = path.startsWith('/') && !path.startsWith('//') ? routeOf(path) : undefined;
  const kept = route ? route.path.split('/').length - (route.path === '/' ? 1 : 0) : 1;
  return segments
    .map((segment, index) => {
      if (segment === '') return segment;
      if (index === 0) return REDACTED; // a request target without a leading slash
      if (index < kept) return segment;
      if (index === kept && route?.log === 'procedure' && PROCEDURE.test(segment)) return segment;
      return REDACTED;
    })
    .join('/');
}

/**
 * One JSON line per request with a request id (an incoming X-Request-Id if it is a sane token, echoed back),
 * method, redacted URL, status and duration. Headers are not logged at all, so no token can leak through them.
 */
export function requestLog(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // Probes and scrapes come every few seconds: when they succeed, only at debug level.
    customLogLevel: (req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : isProbe(req.url) ? 'debug' : 'info',
  });
}
