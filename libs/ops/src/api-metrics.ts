import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PurgeCounter, type PurgeCause } from './purge-counter.ts';
import { TRANSFER_SECONDS_BUCKETS, newRegistry } from './registry.ts';

/** What the API counts. Labels are fixed words and error codes from the error table, never a file's code. */
export type Operation = 'upload' | 'download' | 'revoke' | 'info';
/** `aborted`: the connection closed before the response was complete (client gone, or a cut-off download). */
export type OperationResult = 'ok' | 'rejected' | 'failed' | 'aborted';

export class ApiMetrics {
  readonly registry: Registry;
  readonly #operations: Record<Exclude<Operation, 'info'>, Counter<'result'>>;
  readonly #rejects: Counter<'operation' | 'reason'>;
  readonly #bytesIn: Counter;
  readonly #bytesOut: Counter;
  readonly #durations: Partial<Record<Operation, Histogram<'result'>>>;
  readonly #inFlight: Gauge;
  readonly #purges: PurgeCounter;

  constructor(registry: Registry = newRegistry()) {
    this.registry = registry;
    const registers = [registry];
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['result'] as const, registers });
    const histogram = (name: string, help: string) =>
      new Histogram({ name, help, labelNames: ['result'] as const, buckets: TRANSFER_SECONDS_BUCKETS, registers });
    this.#operations = {
      upload: counter('one_time_uploads_total', 'Upload requests by result: ok, rejected (4xx), failed (5xx), aborted.'),
      download: counter('one_time_downloads_total', 'Download requests (GET/POST, not HEAD) by result.'),
      revoke: counter('one_time_revokes_total', 'Revoke requests (REST and tRPC) by result.'),
    };
    this.#rejects = new Counter({
      name: 'one_time_rejects_total',
      help: 'Error answers by operation (upload, download, revoke, info, other) and error code (the error table).',
      labelNames: ['operation', 'reason'] as const,
      registers,
    });
    this.#bytesIn = new Counter({
      name: 'one_time_upload_bytes_total',
      help: 'File bytes received by uploads (plaintext), including uploads then refused.',
      registers,
    });
    this.#bytesOut = new Counter({
      name: 'one_time_download_bytes_total',
      help: 'File bytes sent by downloads (plaintext, or the zip), including cut-off downloads.',
      registers,
    });
    this.#durations = {
      upload: histogram('one_time_upload_duration_seconds', 'Upload request duration, from request to the end of the answer.'),
      download: histogram('one_time_download_duration_seconds', 'Download request duration, until the last byte is sent.'),
    };
    this.#inFlight = new Gauge({
      name: 'one_time_transfers_in_flight',
      help: 'Upload and download requests being served now.',
      registers,
    });
    this.#purges = new PurgeCounter(registry);
  }

  /** The API purges a file itself right after its last download (see DownloadService). */
  purged(cause: PurgeCause): void {
    this.#purges.purged(cause);
  }

  /** Call when an operation's request arrives; the returned function when its response closes. */
  started(operation: Operation): (result: OperationResult) => void {
    const startedAt = process.hrtime.bigint();
    const transfer = operation === 'upload' || operation === 'download';
    if (transfer) this.#inFlight.inc();
    return (result) => {
      if (transfer) this.#inFlight.dec();
      if (operation !== 'info') this.#operations[operation].inc({ result });
      this.#durations[operation]?.observe({ result }, Number(process.hrtime.bigint() - startedAt) / 1e9);
    };
  }

  rejected(operation: Operation | 'other', reason: string): void {
    this.#rejects.inc({ operation, reason });
  }

  bytesIn(bytes: number): void {
    if (bytes > 0) this.#bytesIn.inc(bytes);
  }

  bytesOut(bytes: number): void {
    if (bytes > 0) this.#bytesOut.inc(bytes);
  }
}
