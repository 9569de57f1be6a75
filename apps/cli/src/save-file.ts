import { constants } from 'node:fs';
import { copyFile, link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Browsers give up after a hundred or so; a folder with this many copies is a mistake, not a wish. */
const MAX_NUMBER = 999;
/** Pieces received meanwhile are written together (one writev) while a write is under way: fewer, larger writes. */
const WRITE_BUFFER = 1024 * 1024;
/** File systems without hard links (FAT, exFAT, some network shares) answer `link` with one of these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Streams `source` to `target` through a `.part` file, so a cut-off download never leaves a file that looks
 * whole. Nothing that exists is ever replaced unless `force`: the `.part` file is created exclusively, and
 * the finished file takes the first free name of `name.ext`, `name (1).ext`, … by an exclusive hard link
 * (no check-then-write race). Returns the path written; on failure the `.part` file is removed.
 */
export async function saveFile(
  source: AsyncIterable<Uint8Array>,
  target: string,
  options: { force: boolean; signal?: AbortSignal },
): Promise<string> {
  const [partial, handle] = await firstFree(`${target}.part`, (candidate) => open(candidate, 'wx'));
  try {
    await pipeline(
      source,
      handle.createWriteStream({ highWaterMark: WRITE_BUFFER }),
      options.signal ? { signal: options.signal } : {},
    );
    if (options.force) {
      await rename(partial, target);
      return target;
    }
    const [saved] = await firstFree(target, (candidate) => linkExclusive(partial, candidate));
    await rm(partial);
    return saved;
  } catch (error) {
    // Closed before removal: Windows cannot delete an open file.
    await handle.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
}

/** `name.ext`, `name (1).ext`, `name (2).ext`, … as browsers number downloads; `.tar.gz` stays whole. */
export function* numbered(path: string): Generator<string> {
  yield path;
  const name = basename(path);
  const extension = /.(?:\.tar)?\.[^.]+$/.exec(name)?.[0].slice(1) ?? '';
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 1; n <= MAX_NUMBER; n++) yield join(dirname(path), `${stem} (${n})${extension}`);
}

/** The first name of `numbered(path)` that `create` makes; `create` must fail with EEXIST when a name is taken. */
async function firstFree<T>(path: string, create: (candidate: string) => Promise<T>): Promise<[string, T]> {
  for (const candidate of numbered(path)) {
    try {
      return [candidate, await create(candidate)];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`${path} and ${MAX_NUMBER} numbered copies of it exist already`);
}

/** Like rename, but fails with EEXIST instead of replacing; copies (still exclusively) where links are not supported. */
async function linkExclusive(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if (!NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}
