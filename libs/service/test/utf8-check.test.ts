import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Utf8Check } from '../src/utf8-check.ts';

async function validity(chunks: readonly Buffer[]): Promise<boolean> {
  const check = new Utf8Check();
  await pipeline(Readable.from(chunks), check, async function* (source) {
    for await (const _chunk of source) yield* [];
  });
  return check.valid;
}

const text = Buffer.from('naïve café — 日本語 😀 done', 'utf8');

describe('Utf8Check', () => {
  it('accepts valid UTF-8 however the chunks cut its characters', async () => {
    for (let cut = 1; cut < text.length; cut += 1) {
      expect(await validity([text.subarray(0, cut), text.subarray(cut)]), `cut at ${cut}`).toBe(true);
    }
    expect(await validity([...text].map((byte) => Buffer.from([byte])))).toBe(true);
  });

  it('refuses an invalid byte anywhere, and a character cut off at the very end', async () => {
    expect(await validity([text, Buffer.from([0xff]), text])).toBe(false);
    expect(await validity([text, Buffer.from([0xc3])])).toBe(false); // the first byte of "é" and nothing after
    expect(await validity([Buffer.from([0xe6, 0x97]), Buffer.from('x')])).toBe(false); // a 3-byte lead, then ASCII
    expect(await validity([Buffer.from([0xed, 0xa0, 0x80])])).toBe(false); // an encoded surrogate
  });
});
