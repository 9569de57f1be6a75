import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { zipOf, type ZipEntry } from '@one-time/service';

function entry(name: string, content: Buffer, opened: string[] = []): ZipEntry {
  return {
    name,
    size: content.length,
    crc32: crc32(content),
    open: (skip) => {
      opened.push(`${name}@${skip}`);
      // Small chunks, so ranges start and end inside chunks as well as on their edges.
      const chunks = Array.from({ length: Math.ceil(content.length / 1000) }, (_, i) =>
        content.subarray(i * 1000, (i + 1) * 1000),
      );
      return Promise.resolve(Readable.from(chunks).pipe(new Skip(skip)));
    },
  };
}

/** What the download service does: the entry's bytes from `skip` on. */
class Skip extends Transform {
  #left: number;
  constructor(skip: number) {
    super();
    this.#left = skip;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const start = Math.min(this.#left, chunk.length);
    this.#left -= start;
    done(null, chunk.subarray(start));
  }
}

const files = {
  'a.txt': Buffer.from('hello, zip'),
  'photo.bin': randomBytes(5_000),
  'empty.txt': Buffer.alloc(0),
  'é ü.txt': Buffer.from('names are UTF-8'),
};
const entries = () => Object.entries(files).map(([name, content]) => entry(name, content));

describe('zipOf', () => {
  it('knows its exact length before reading, and unzips to the same files', async () => {
    const zip = zipOf(entries());
    const bytes = await buffer(zip.stream(0));
    expect(bytes.length).toBe(zip.size);
    const unzipped = unzipSync(bytes);
    expect(Object.keys(unzipped)).toEqual(Object.keys(files));
    for (const [name, content] of Object.entries(files)) expect(Buffer.from(unzipped[name]!)).toEqual(content);
  });

  it('is the same archive on every call: byte N is always the same byte, from any starting point', async () => {
    const zip = zipOf(entries());
    const whole = await buffer(zip.stream(0));
    expect(await buffer(zipOf(entries()).stream(0))).toEqual(whole);
    for (const from of [1, 29, 30, 31, 40, 41, 2_000, 5_070, whole.length - 22, whole.length - 1, whole.length]) {
      expect((await buffer(zip.stream(from))).equals(whole.subarray(from)), `from ${from}`).toBe(true);
    }
  });

  it('opens only the entries at or after the starting point, each once, from the right offset', async () => {
    const opened: string[] = [];
    const zip = zipOf(Object.entries(files).map(([name, content]) => entry(name, content, opened)));
    const whole = await buffer(zipOf(entries()).stream(0));
    const secondDataStart = 30 + 'a.txt'.length + files['a.txt'].length + 30 + 'photo.bin'.length;
    await buffer(zip.stream(secondDataStart + 1_234));
    expect(opened).toEqual(['photo.bin@1234', 'empty.txt@0', 'é ü.txt@0']);
    expect(whole.subarray(secondDataStart, secondDataStart + 5_000)).toEqual(files['photo.bin']);
  });

  it('gives duplicate names a number, as a file manager would', async () => {
    const zip = zipOf([
      entry('same.txt', Buffer.from('1')),
      entry('same.txt', Buffer.from('2')),
      entry('SAME.txt', Buffer.from('3')),
    ]);
    expect(Object.keys(unzipSync(await buffer(zip.stream(0))))).toEqual(['same.txt', 'same (2).txt', 'SAME (3).txt']);
  });

  it('refuses to send an entry that is not as long as its header says', async () => {
    const short: ZipEntry = { ...entry('x', Buffer.from('abc')), size: 4 };
    await expect(buffer(zipOf([short]).stream(0))).rejects.toThrow(/3 bytes instead of 4/);
  });

  it('writes ZIP64 records that Info-ZIP unzip reads back (used above 4 GiB)', async () => {
    const zip = zipOf(entries(), { forceZip64: true });
    const bytes = await buffer(zip.stream(0));
    expect(bytes.length).toBe(zip.size);
    const folder = mkdtempSync(join(tmpdir(), 'zip64-'));
    try {
      const path = join(folder, 'x.zip');
      writeFileSync(path, bytes);
      expect(execFileSync('unzip', ['-t', path], { encoding: 'utf8' })).toMatch(/No errors detected/);
      expect(execFileSync('unzip', ['-p', path, 'photo.bin'])).toEqual(files['photo.bin']);
      expect(execFileSync('unzip', ['-Z', '-v', path], { encoding: 'utf8' })).toMatch(/zip64/i);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
