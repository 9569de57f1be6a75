import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '@one-time/core';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Path segments that carry a code: never written to a log. */
const SECRET_SEGMENT = /^\/(download|files|d)\/[^/?#]*/;

/** `/download/<code>?x=1` → `/download/[redacted]`; query strings are dropped (they may carry anything). */
export function redactUrl(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.replace(SECRET_SEGMENT, '/$1/[redacted]');
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
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  });
}
