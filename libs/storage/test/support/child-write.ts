/**
 * One `FilesystemBlobStore` write in a process of its own, for what a test cannot do to its own process:
 * be killed mid-write (a crash), or write under a file size limit (RLIMIT_FSIZE, set by the parent's shell).
 *
 *   node child-write.ts <root> <name> stall <bytes>   writes <bytes>, then waits for the parent to kill it
 *   node child-write.ts <root> <name> fill <bytes>    writes <bytes>, then prints the outcome as JSON
 */
import { PassThrough, Readable } from 'node:stream';
import { FilesystemBlobStore } from '@one-time/storage/filesystem';

const [root = '', name = '', mode = '', bytes = '0'] = process.argv.slice(2);
const store = new FilesystemBlobStore({ root });
const size = Number(bytes);

if (mode === 'stall') {
  const source = new PassThrough();
  source.write(Buffer.alloc(size, 7));
  void store.write(name, source);
  setInterval(() => undefined, 60_000); // keeps the process alive until it is killed
} else {
  const chunks = (function* () {
    for (let sent = 0; sent < size; sent += 64 * 1024) yield Buffer.alloc(Math.min(64 * 1024, size - sent), 7);
  })();
  const outcome = await store.write(name, Readable.from(chunks)).then(
    (written) => ({ size: written.size }),
    (error: unknown) => {
      const failure = error as { name?: string; code?: string; cause?: { code?: string } };
      return { name: failure.name, code: failure.code, cause: failure.cause?.code };
    },
  );
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
