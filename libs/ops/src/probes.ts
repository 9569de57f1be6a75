/** Paths that probes and scrapers hit every few seconds; their successful requests are logged at debug level. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export function isProbe(url: string | undefined): boolean {
  return PROBE_PATHS.has((url ?? '').split('?', 1)[0]!.toLowerCase());
}
