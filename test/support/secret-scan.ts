import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every regular file below a folder. */
export async function* filesUnder(folder: string): AsyncGenerator<string> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * The forms a secret could be kept in: as UTF-8 and UTF-16 text, as hex (either case), and inside base64 or
 * base64url of a larger value (a value's base64 does not contain the base64 of its parts, so each of the three
 * alignments is searched, without the characters its neighbours change).
 */
export function encodingsOf(secret: string): Array<{ readonly how: string; readonly bytes: Buffer }> {
  const raw = Buffer.from(secret, 'utf8');
  const forms = [
    { how: 'utf-8', bytes: raw },
    { how: 'utf-16le', bytes: Buffer.from(secret, 'utf16le') },
    { how: 'hex', bytes: Buffer.from(raw.toString('hex')) },
    { how: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
  ];
  for (const encoding of ['base64', 'base64url'] as const) {
    for (let offset = 0; offset < 3; offset += 1) {
      const encoded = Buffer.concat([Buffer.alloc(offset), raw]).toString(encoding);
      const core = encoded.slice(Math.ceil((offset * 4) / 3), encoded.length - 4);
      if (core.length >= 8) forms.push({ how: `${encoding}@${offset}`, bytes: Buffer.from(core) });
    }
  }
  return forms;
}

/** Names each secret (and the form it was in) that occurs in `data`. */
export function secretsIn(data: Buffer, secrets: Readonly<Record<string, string>>): string[] {
  return Object.entries(secrets).flatMap(([what, secret]) =>
    encodingsOf(secret)
      .filter(({ bytes }) => data.includes(bytes))
      .map(({ how }) => `${what} (${how})`),
  );
}

/** Reads every file below the folders and names each secret found, with the file it was in. */
export async function scanFolders(
  folders: readonly string[],
  secrets: Readonly<Record<string, string>>,
): Promise<{ readonly found: string[]; readonly bytes: number }> {
  const found: string[] = [];
  let bytes = 0;
  for (const folder of folders) {
    for await (const path of filesUnder(folder)) {
      const data = await readFile(path);
      bytes += data.length;
      found.push(...secretsIn(data, secrets).map((hit) => `${hit} in ${path}`));
    }
  }
  return { found, bytes };
}
