import { describe, expect, it } from 'vitest';
import { parseRange, rangeStillValid, servedRange } from '../src/http/byte-ranges.ts';

const served = (header: string | undefined, size = 1000) => servedRange(parseRange(header), size);

describe('byte ranges', () => {
  it('serves one range, from a start, between two bytes, or the last bytes', () => {
    expect(served('bytes=0-')).toEqual({ kind: 'part', from: 0, to: 999 });
    expect(served('bytes=10-19')).toEqual({ kind: 'part', from: 10, to: 19 });
    expect(served('bytes=990-5000')).toEqual({ kind: 'part', from: 990, to: 999 });
    expect(served('bytes=-10')).toEqual({ kind: 'part', from: 990, to: 999 });
    expect(served('bytes=-5000')).toEqual({ kind: 'part', from: 0, to: 999 });
    expect(served(' bytes=999-999 ')).toEqual({ kind: 'part', from: 999, to: 999 });
  });

  it('refuses a range that starts past the end, an empty suffix, and any range of an empty file', () => {
    expect(served('bytes=1000-')).toEqual({ kind: 'unsatisfiable' });
    expect(served('bytes=-0')).toEqual({ kind: 'unsatisfiable' });
    expect(served('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what it does not serve as a range: several ranges, other units, bad syntax, no header', () => {
    for (const header of [
      undefined,
      'bytes=0-1,5-6',
      'items=0-1',
      'bytes=5-1',
      'bytes=abc',
      'bytes=',
      'bytes=99999999999999999999-',
    ]) {
      expect(served(header), String(header)).toEqual({ kind: 'whole' });
    }
  });

  it('keeps a range only when If-Range is absent or exactly this strong ETag', () => {
    expect(rangeStillValid(undefined, 'tag')).toBe(true);
    expect(rangeStillValid('"tag"', 'tag')).toBe(true);
    expect(rangeStillValid('W/"tag"', 'tag')).toBe(false);
    expect(rangeStillValid('"other"', 'tag')).toBe(false);
    expect(rangeStillValid('Wed, 02 Dec 2026 10:00:00 GMT', 'tag')).toBe(false);
    expect(rangeStillValid('"tag"', undefined)).toBe(false);
  });
});
