import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '@one-time/core';
import { isProbe } from './probes.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * One JSON line per request, for both ports: a request id (a sane incoming X-Request-Id is kept, anything else
 * replaced by a UUID; either way echoed), method, the URL as `redact` leaves it, status and duration. Headers
 * are not logged at all (they carry delete tokens and the dashboard's credentials). Probes and scrapes that
 * succeed come every few seconds: they are logged at debug level.
 */
export function httpLog(logger: Logger, redact: (url: string) => string): HttpLogger {
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redact(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : isProbe(req.url) ? 'debug' : 'info',
  });
}

/** The ops port's paths hold no secret: only the query string is dropped. */
export function withoutQuery(url: string): string {
  return url.split('?', 1)[0] ?? '';
}
