import type { HttpLogger } from 'pino-http';
import type { Logger } from '@one-time/core';
import { httpLog } from '@one-time/ops';
import { routeOf } from './route-table.ts';

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

/** The public port's request log: the URL with everything secret taken out (see `redactUrl`). */
export function requestLog(logger: Logger): HttpLogger {
  return httpLog(logger, redactUrl);
}
