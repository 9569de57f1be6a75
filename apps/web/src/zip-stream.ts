import { Zip, ZipPassThrough } from 'fflate';

/** What the page encrypts and sends: one file as it is, or several as one zip. */
export interface PlainSource {
  readonly name: string;
  readonly type: string;
  /** Exact bytes `stream()` delivers, known before a byte is read (the upload declares its size up front). */
  readonly size: number;
  stream(): ReadableStream<Uint8Array>;
}

/** fflate writes 32-bit sizes and offsets only (no ZIP64): an archive must stay below 4 GiB. */
export const MAX_ZIP_BYTES = 0xffffffff;

export class ZipTooLargeError extends Error {
  readonly size: number;
  constructor(size: number) {
    super(`a zip of ${size} bytes needs ZIP64, which the page cannot write`);
    this.name = 'ZipTooLargeError';
    this.size = size;
  }
}

/**
 * Several files as one stored (uncompressed) zip, streamed: each file is read in turn and passed through, so the
 * archive never sits in memory. Named like the server's own zips of several files.
 *
 * Its exact size: fflate's layout for a stored entry whose length is not known up front is a local header, the
 * data, a 16-byte data descriptor, and later a central directory entry; every field is of fixed width except
 * the name (twice). So the data adds exactly its own length, and the rest is measured by zipping the same names
 * with empty contents (a few hundred bytes, synchronously): size = that length + the files' sizes.
 */
export function zipOfFiles(files: readonly File[]): PlainSource {
  const names = uniqueNames(files.map((file) => file.name));
  const size = zipFrameLength(names) + files.reduce((sum, file) => sum + file.size, 0);
  if (size > MAX_ZIP_BYTES) throw new ZipTooLargeError(size);
  return {
    name: `one-time-${files.length}-files.zip`,
    type: 'application/zip',
    size,
    stream: () => zipStream(files, names),
  };
}

/** The bytes a zip of these names holds besides the contents. */
export function zipFrameLength(names: readonly string[]): number {
  let length = 0;
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    length += chunk.length;
  });
  for (const name of names) {
    const entry = new ZipPassThrough(name);
    zip.add(entry);
    entry.push(new Uint8Array(0), true);
  }
  zip.end();
  return length;
}

function zipStream(files: readonly File[], names: readonly string[]): ReadableStream<Uint8Array> {
  let queue: Uint8Array[] = [];
  let ended = false;
  let failure: Error | undefined;
  let next = 0;
  let current: { readonly entry: ZipPassThrough; readonly reader: ReadableStreamDefaultReader<Uint8Array> } | undefined;
  const zip = new Zip((error, chunk, final) => {
    if (error) failure = error;
    else queue.push(chunk);
    if (final) ended = true;
  });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Feed the zip until it has output: each read of a file passes straight through.
        while (queue.length === 0 && !ended && failure === undefined) {
          if (current === undefined) {
            const file = files[next];
            if (file === undefined) {
              zip.end();
              continue;
            }
            const entry = new ZipPassThrough(names[next] ?? file.name);
            entry.mtime = zipTime(file.lastModified);
            zip.add(entry);
            current = { entry, reader: file.stream().getReader() };
            next += 1;
          }
          const read = await current.reader.read();
          if (read.done) {
            current.entry.push(new Uint8Array(0), true);
            current = undefined;
          } else {
            current.entry.push(read.value, false);
          }
        }
        if (failure) throw failure;
        for (const chunk of queue) controller.enqueue(chunk);
        queue = [];
        if (ended) controller.close();
      },
      async cancel(reason) {
        zip.terminate();
        await current?.reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A DOS timestamp covers 1980–2107 (fflate refuses other years): a file dated outside gets the current time. */
function zipTime(lastModified: number): number {
  const year = new Date(lastModified).getFullYear();
  return year >= 1980 && year <= 2099 ? lastModified : Date.now();
}

/** Two files of the same name (dropped from two folders) become `a.txt` and `a (2).txt`, as the server names them. */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    const dot = name.lastIndexOf('.');
    const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    for (let n = 2; taken.has(candidate.toLowerCase()); n += 1) candidate = `${stem} (${n})${extension}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}
