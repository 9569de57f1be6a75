import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatExpiry, ttlChoices, ttlParameter } from '../src/format.ts';

describe('format', () => {
  it('writes sizes as people read them', () => {
    expect([0, 1, 2, 1023, 1024, 1536, 262_151, 10 * 1024 ** 2, 2 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 bytes',
      '1 byte',
      '2 bytes',
      '1,023 bytes',
      '1 KB',
      '1.5 KB',
      '256 KB',
      '10 MB',
      '2 GB',
    ]);
  });

  it('names durations by their largest exact unit', () => {
    expect([1, 90, 300, 3600, 5400, 86_400, 604_800, 1_209_600].map(formatDuration)).toEqual([
      '1 second',
      '90 seconds',
      '5 minutes',
      '1 hour',
      '90 minutes',
      '1 day',
      '1 week',
      '2 weeks',
    ]);
  });

  it('says when a file expires, relative and absolute', () => {
    const now = new Date('2026-11-28T12:00:00Z');
    const at = (seconds: number) => formatExpiry(new Date(now.getTime() + seconds * 1000), now).replace(/ \(.*\)$/, '');
    expect([30, 3599, 3600, 23 * 3600, 47 * 3600, 3 * 86_400, -7200].map(at)).toEqual([
      'in 30 seconds',
      'in 1 hour',
      'in 1 hour',
      'in 23 hours',
      'in 47 hours',
      'in 3 days',
      '2 hours ago',
    ]);
    expect(formatExpiry(now, now)).toMatch(/\(28 Nov 2026, \d\d:00\)$/);
  });

  it('offers expiry choices within the server limits, including its default and maximum', () => {
    expect(ttlChoices(86_400, 604_800)).toEqual([300, 3600, 21_600, 86_400, 259_200, 604_800]);
    expect(ttlChoices(7200, 10_800)).toEqual([300, 3600, 7200, 10_800]);
    expect(ttlChoices(86_400, 600)).toEqual([300, 600]);
    expect(ttlParameter(3600)).toBe('3600s');
  });
});
