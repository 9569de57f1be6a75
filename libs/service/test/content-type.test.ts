import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { describe, expect, it } from 'vitest';
import { sniffContentType } from '../src/content-type.ts';

/** What the sniffer answers when file-type finds nothing: its own text and markup checks, or opaque bytes. */
const FALLBACKS = ['text/plain', 'text/html', 'application/xml', 'image/svg+xml', 'application/octet-stream'];

/**
 * Heads to detect: every literal signature file-type's parser checks for (strings and byte lists, at their
 * offsets), each planted in random bytes and in zeros, plus plain random heads. Read from file-type's own
 * source, so a version that adds formats adds cases.
 */
function heads(): Buffer[] {
  const source = readFileSync(join(dirname(createRequire(import.meta.url).resolve('file-type')), 'index.js'), 'utf8');
  const planted: Array<{ bytes: number[]; offset: number }> = [];
  for (const [, text, offset] of source.matchAll(/this\.checkString\('([^'\\]*)'(?:, \{offset: (\d+)\})?\)/g)) {
    planted.push({ bytes: [...text!].map((c) => c.charCodeAt(0)), offset: Number(offset ?? 0) });
  }
  const numbers = (list: string) => list.split(',').map((n) => Number(n.trim()));
  for (const [, list, offset, mask] of source.matchAll(
    /this\.check\(\[([^\]]*)\](?:, \{offset: (\d+)(?:, mask: \[([^\]]*)\])?\})?\)/g,
  )) {
    const bytes = numbers(list!);
    planted.push({ bytes, offset: Number(offset ?? 0) });
    // The bits a mask ignores set: found only by a check that applies the mask.
    if (mask) planted.push({ bytes: bytes.map((byte, i) => byte | (~numbers(mask)[i]! & 0xff)), offset: Number(offset) });
  }
  const result: Buffer[] = [];
  for (const { bytes, offset } of planted) {
    for (const fill of [randomBytes(4100), Buffer.alloc(4100)]) {
      Buffer.from(bytes).copy(fill, offset);
      result.push(fill);
    }
  }
  for (let i = 0; i < 200; i += 1) result.push(randomBytes(1 + ((i * 37) % 4100)));
  return result;
}

describe('sniffContentType', () => {
  it('detects what file-type itself detects, head for head', async () => {
    const cases = heads();
    expect(cases.length).toBeGreaterThan(500);
    let detected = 0;
    for (const head of cases) {
      const expected = (await fileTypeFromBuffer(head))?.mime;
      const sniffed = await sniffContentType(head);
      if (expected === undefined) expect(FALLBACKS).toContain(sniffed);
      else
        expect({ sniffed, head: head.subarray(0, 16).toString('hex') }).toEqual({
          sniffed: expected,
          head: head.subarray(0, 16).toString('hex'),
        });
      if (expected !== undefined) detected += 1;
    }
    expect(detected).toBeGreaterThan(100); // the planted signatures are found, not only the fallbacks
  });

  it('tells text and markup from opaque bytes when file-type finds nothing', async () => {
    expect(await sniffContentType(Buffer.from('hello, world\n'))).toBe('text/plain');
    expect(await sniffContentType(Buffer.from('  <!doctype html><p>hi'))).toBe('text/html');
    expect(await sniffContentType(Buffer.from('<?xml version="1.0"?><a/>'))).toBe('application/xml');
    expect(await sniffContentType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('image/svg+xml');
    expect(await sniffContentType(Buffer.from([0, 1, 2, 3]))).toBe('application/octet-stream');
  });
});
