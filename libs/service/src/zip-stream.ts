import { Readable } from 'node:stream';

export interface ZipEntry {
  readonly name: string;
  /** Opened only when the archive reaches this entry, so one connection to storage is open at a time. */
  readonly open: () => Promise<Readable>;
}

/**
 * Streams a zip of the entries without compression (shared files are usually compressed already, and
 * storing keeps the download as fast as the storage). Duplicate names get a ` (2)` suffix.
 */
export async function zipStream(entries: readonly ZipEntry[]): Promise<Readable> {
  // Loaded on first use: the zip library costs a process about 20 MiB, and most downloads are single files.
  const { ZipArchive } = await import('archiver');
  const archive = new ZipArchive({ store: true });
  const names = uniqueNames(entries.map((entry) => entry.name));
  entries.forEach((entry, index) => {
    archive.append(lazy(entry.open), { name: names[index] ?? entry.name });
  });
  void archive.finalize().catch((error: unknown) => archive.destroy(error instanceof Error ? error : new Error(String(error))));
  return archive;
}

function lazy(open: () => Promise<Readable>): Readable {
  return Readable.from(
    (async function* () {
      yield* await open();
    })(),
    { objectMode: false },
  );
}

function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = (seen.get(name.toLowerCase()) ?? 0) + 1;
    seen.set(name.toLowerCase(), count);
    if (count === 1) return name;
    const dot = name.lastIndexOf('.');
    return dot > 0 ? `${name.slice(0, dot)} (${count})${name.slice(dot)}` : `${name} (${count})`;
  });
}
