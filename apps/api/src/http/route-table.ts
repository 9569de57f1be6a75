import type { Operation } from '@one-time/ops';

/** Which per-client limit (apps/api/src/http/rate-limit.ts) counts a route's requests. */
export type RouteLimit = 'uploads' | 'downloads' | 'revokes' | 'none';

export interface RouteEntry {
  /** The mount path: one or two segments, matched case-insensitively on segment boundaries, as Express does. */
  readonly path: string;
  /** The operation the metrics count it as, and for which methods; absent: not counted. */
  readonly operation?: { readonly name: Operation; readonly methods: readonly string[] };
  /** `none` only where nothing is stored or consumed and the answer is cheap. */
  readonly limit: RouteLimit;
  /**
   * What the request log keeps: `path`, the mount path (everything after it, a code or a file name, is
   * redacted); `procedure`, the mount path and a tRPC procedure name after it.
   */
  readonly log: 'path' | 'procedure';
  /** The limit counts only requests to the mount path itself, not to the paths below it. */
  readonly exact?: boolean;
}

/**
 * Every route of the public port, in one place: the rate-limit mounts, the operation metrics and the log's
 * allow-list all read it, and a test checks that every route the app serves has its entry here, so a new
 * route cannot be added unlimited or unredacted. Longer paths first: the first match wins.
 */
export const ROUTES: readonly RouteEntry[] = [
  { path: '/trpc/file.info', operation: { name: 'info', methods: ['GET', 'POST'] }, limit: 'downloads', log: 'path' },
  { path: '/trpc/file.revoke', operation: { name: 'revoke', methods: ['POST'] }, limit: 'revokes', log: 'path' },
  // server.limits and server.health: read-only, cheap, the same for everyone.
  { path: '/trpc', limit: 'none', log: 'procedure' },
  // Creating a chunked upload counts as an upload; its chunk calls need the upload's delete token, are bounded
  // by the size declared at creation, and are not counted again.
  { path: '/uploads', operation: { name: 'upload', methods: ['POST'] }, limit: 'uploads', exact: true, log: 'path' },
  { path: '/upload', operation: { name: 'upload', methods: ['POST', 'PUT'] }, limit: 'uploads', log: 'path' },
  // HEAD shares the download limit but consumes nothing, so it is not counted as a download.
  { path: '/download', operation: { name: 'download', methods: ['GET', 'POST'] }, limit: 'downloads', log: 'path' },
  { path: '/files', operation: { name: 'revoke', methods: ['DELETE'] }, limit: 'revokes', log: 'path' },
  // The pages and their assets: static documents that consume nothing.
  { path: '/d', limit: 'none', log: 'path' },
  { path: '/assets', limit: 'none', log: 'path' },
  { path: '/sw.js', limit: 'none', log: 'path' },
  { path: '/favicon.svg', limit: 'none', log: 'path' },
  { path: '/favicon.ico', limit: 'none', log: 'path' },
  // Probes and the scraper must answer however busy a client is.
  { path: '/healthz', limit: 'none', log: 'path' },
  { path: '/readyz', limit: 'none', log: 'path' },
  { path: '/metrics', limit: 'none', log: 'path' },
  { path: '/', limit: 'none', log: 'path' },
];

/** The entry a request path belongs to; undefined for a path no route serves. */
export function routeOf(path: string): RouteEntry | undefined {
  const lower = path.toLowerCase();
  return ROUTES.find((entry) =>
    entry.path === '/' ? lower === '/' : lower === entry.path || lower.startsWith(`${entry.path}/`),
  );
}

/** Which operation a request is, from its method and route only (never from a code). */
export function operationOf(method: string, path: string): Operation | undefined {
  const entry = routeOf(path);
  if (entry?.exact && path.toLowerCase() !== entry.path) return undefined;
  return entry?.operation?.methods.includes(method.toUpperCase()) ? entry.operation.name : undefined;
}
