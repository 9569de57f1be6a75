/**
 * Section 4: how long after the end of a download (purge lag) and after a TTL runs out (expiry lag) the blob and
 * the record are really gone, measured by polling MongoDB and the container.
 */
import type { ContainerClient } from '@azure/storage-blob';
import type { Collection } from 'mongodb';
import { fileIdForCode, type FileRecord } from '@one-time/core';
import { downloadSmall, uploadSmall, type Percentiles } from './small-files.ts';
import { inParallel, percentile, progress } from './support.ts';
import { randomBytes } from 'node:crypto';

const POLL_MS = 20;
const DEADLINE_MS = 120_000;
const EXPIRY_TTL_S = 3;

export interface LagResult {
  readonly files: number;
  readonly purgeLagMs: Percentiles & { readonly max: number };
  readonly expiryLagMs: Percentiles & { readonly max: number };
  /** Mean time of one poll (query + listing): the measurement's resolution. */
  readonly pollMs: number;
}

interface Watched {
  readonly fileId: string;
  readonly blobs: readonly string[];
  /** When the lag starts: the end of the download, or the expiry time. */
  since: number;
  goneAt?: number;
}

export async function lags(
  url: string,
  files: Collection<FileRecord>,
  container: ContainerClient,
  count: number,
): Promise<LagResult> {
  progress(`purge lag: ${count} files uploaded, downloaded, then watched until gone`);
  const downloaded = await uploadAll(url, files, count, '1h');
  const polling = watch(downloaded, files, container);
  await inParallel(downloaded, 32, async (file) => {
    await downloadSmall(file.url);
    file.watched.since = Date.now();
  });
  const purge = await polling;

  progress(`expiry lag: ${count} files with a ${EXPIRY_TTL_S} s TTL, watched until gone`);
  const expiring = await uploadAll(url, files, count, `${EXPIRY_TTL_S}s`);
  const expiry = await watch(expiring, files, container);

  return {
    files: count,
    purgeLagMs: summary(purge.lags),
    expiryLagMs: summary(expiry.lags),
    pollMs: (purge.pollMs + expiry.pollMs) / 2,
  };
}

async function uploadAll(
  url: string,
  files: Collection<FileRecord>,
  count: number,
  ttl: string,
): Promise<Array<{ url: string; watched: Watched }>> {
  return inParallel(
    Array.from({ length: count }, (_, i) => i),
    32,
    async (i) => {
      const answer = await uploadSmall(`${url}`, randomBytes(1024), i, ttl);
      const fileId = fileIdForCode(answer.code);
      const record = await files.findOne({ _id: fileId });
      if (!record) throw new Error(`no record for upload ${i}`);
      return {
        url: answer.downloadUrl,
        watched: { fileId, blobs: record.parts.map((part) => part.blob), since: Date.parse(answer.expiresAt) },
      };
    },
  );
}

/** Polls until every watched file has neither record nor blob; lag = gone − since, per file. */
async function watch(
  items: ReadonlyArray<{ watched: Watched }>,
  files: Collection<FileRecord>,
  container: ContainerClient,
): Promise<{ lags: number[]; pollMs: number }> {
  const pending = new Set(items.map((item) => item.watched));
  const deadline = Date.now() + DEADLINE_MS;
  let polls = 0;
  let pollTime = 0;
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.size} files still present after ${DEADLINE_MS / 1000}s`);
    const started = Date.now();
    const ids = [...pending].map((w) => w.fileId);
    const [records, blobs] = await Promise.all([
      files.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray(),
      blobNames(container),
    ]);
    const now = Date.now();
    polls += 1;
    pollTime += now - started;
    const present = new Set(records.map((r) => r._id));
    for (const watched of pending) {
      if (!present.has(watched.fileId) && watched.blobs.every((blob) => !blobs.has(blob))) {
        watched.goneAt = now;
        pending.delete(watched);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return {
    lags: items.map(({ watched }) => (watched.goneAt ?? Number.NaN) - watched.since),
    pollMs: pollTime / Math.max(polls, 1),
  };
}

async function blobNames(container: ContainerClient): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const blob of container.listBlobsFlat({ includeUncommitedBlobs: true })) names.add(blob.name);
  return names;
}

function summary(values: readonly number[]): Percentiles & { max: number } {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}
