import { dirname, join, resolve } from 'node:path';
import { FILE_ID_PATTERN, isBlobName, parseBlobName, PART_PATTERN, refuseName } from '../blob-name.ts';

/**
 * Where blobs sit on disk: one flat folder. Blob `<file id>/<part>` is the file `<file id>.<part>`, and a
 * write in progress streams into `<file id>.<part>.partial` next to it, renamed over the final name once
 * synced. Flat because it is the cheapest layout measured: no folder to create, sync or remove per file id,
 * so nothing named after a file id outlives its blob, and a write syncs a single, already durable folder.
 *
 * A `.partial` file left by a crash is listed as `<file id>/<part>.partial`, a name only `delete` accepts,
 * so reconciliation can see and remove it; `delete` of the blob name removes it too.
 */
const PARTIAL = '.partial';
const ENTRY = new RegExp(`^(${FILE_ID_PATTERN})\\.(${PART_PATTERN})(\\.partial)?$`);
const LEFTOVER_NAME = new RegExp(`^(${FILE_ID_PATTERN}/${PART_PATTERN})\\.partial$`);

export interface BlobFiles {
  /** Where the complete blob lives. */
  readonly final: string;
  /** Where a write streams to before it is complete. */
  readonly partial: string;
}

export class FlatLayout {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The files of a blob name; anything but `<file id>/<part>` is refused before any path is built. */
  files(name: string): BlobFiles {
    const parsed = parseBlobName(name);
    if (!parsed) throw refuseName(name);
    const final = this.#inside(`${parsed.fileId}.${parsed.part}`);
    return { final, partial: this.#inside(`${parsed.fileId}.${parsed.part}${PARTIAL}`) };
  }

  /** What `delete(name)` removes: a blob with its leftovers, or just one listed leftover. */
  removable(name: string): string[] {
    const leftover = typeof name === 'string' ? LEFTOVER_NAME.exec(name) : null;
    if (leftover) return [this.files(leftover[1]!).partial];
    if (!isBlobName(name)) throw refuseName(name, '<file id>/<part> or a listed <file id>/<part>.partial');
    const files = this.files(name);
    return [files.final, files.partial];
  }

  /** The name a folder entry is listed under, or undefined for anything this store did not write. */
  static listedName(entry: string): string | undefined {
    const match = ENTRY.exec(entry);
    return match ? `${match[1]}/${match[2]}${match[3] ?? ''}` : undefined;
  }

  /** Belt and braces: the name check already rules out separators, but no path may leave the root. */
  #inside(fileName: string): string {
    const path = resolve(join(this.root, fileName));
    if (dirname(path) !== this.root) throw refuseName(fileName);
    return path;
  }
}
