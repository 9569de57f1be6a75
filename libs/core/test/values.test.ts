import { describe, expect, it } from 'vitest';
import {
  contentDisposition,
  fileIdForCode,
  generateCode,
  isWellFormedCode,
  loadConfig,
  parseDuration,
  parseSize,
  assertOnlyUploadOptions,
  parseUploadOptions,
  sanitizeFileName,
} from '../src/index.ts';

describe('durations and sizes', () => {
  it.each([
    ['10m', 600_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['90', 90_000],
    ['2s', 2_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 'soon', '-1', '1.5h', '10y'])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());
  it('parses sizes', () => {
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseSize('1048576')).toBe(1024 ** 2);
    expect(parseSize('lots')).toBeUndefined();
  });
});

describe('codes', () => {
  it('are 128 random bits, URL-safe, and never repeat', () => {
    const codes = new Set(Array.from({ length: 1000 }, generateCode));
    expect(codes.size).toBe(1000);
    for (const code of codes) expect(isWellFormedCode(code)).toBe(true);
    expect(Buffer.from([...codes][0] ?? '', 'base64url')).toHaveLength(16);
  });
  it('map to a file id that does not contain the code', () => {
    const code = generateCode();
    expect(fileIdForCode(code)).not.toContain(code);
    expect(fileIdForCode(code)).toBe(fileIdForCode(code));
  });
  it.each(['', 'short', 'A'.repeat(23), 'AAAAAAAAAAAAAAAAAAAA/A', '../../../../etc/passwd'])('rejects malformed %j', (code) =>
    expect(isWellFormedCode(code)).toBe(false),
  );
});

describe('file names', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\x.txt', 'x.txt'],
    ['a\u0000b\u001fc.txt', 'a_b_c.txt'],
    ['\u202eevil.exe', '_evil.exe'],
    ['..', 'file'],
    ['', 'file'],
    ['😀 photo.jpg', '😀 photo.jpg'],
  ])('sanitizes %j', (raw, safe) => expect(sanitizeFileName(raw)).toBe(safe));
  it('caps the length and keeps the extension', () => {
    const name = sanitizeFileName(`${'x'.repeat(1000)}.tar.gz`);
    expect(Array.from(name)).toHaveLength(255);
    expect(name.endsWith('.gz')).toBe(true);
  });
  it('encodes Content-Disposition per RFC 6266 / 5987', () => {
    expect(contentDisposition('naïve "x".txt')).toBe(
      `attachment; filename="na_ve _x_.txt"; filename*=UTF-8''na%C3%AFve%20%22x%22.txt`,
    );
  });
});

describe('upload options', () => {
  const { limits } = loadConfig({});
  it('defaults and caps', () => {
    expect(parseUploadOptions({}, {}, limits)).toEqual({ ttlMs: 86_400_000, downloads: 1 });
    expect(parseUploadOptions({ ttl: '10m' }, { downloads: '3' }, limits)).toEqual({ ttlMs: 600_000, downloads: 3 });
    expect(parseUploadOptions({ ttl: '10m' }, { ttl: '10m' }, limits)).toEqual({ ttlMs: 600_000, downloads: 1 });
    expect(parseUploadOptions({}, { ttl: '90s' }, limits)).toEqual({ ttlMs: 90_000, downloads: 1 });
  });
  it('says in its messages what the README says: units s, m, h, d; from TTL_MIN to TTL_MAX', () => {
    expect(() => parseUploadOptions({ ttl: '24' }, {}, limits)).toThrow(
      /"ttl" must be a whole number with a unit — s, m, h or d, such as 10m, 24h or 7d — from 1m to 7d \(got "24"\)/,
    );
    expect(() => parseUploadOptions({ ttl: '8d' }, {}, limits)).toThrow('"ttl" must be from 1m to 7d.');
    expect(() => parseUploadOptions({ ttl: '1s' }, {}, limits)).toThrow('"ttl" must be from 1m to 7d.');
    expect(() => parseUploadOptions({ ttl: '1w' }, {}, limits)).toThrow(/whole number with a unit/);
  });
  it('refuses an option given both ways with different values, and unknown names', () => {
    expect(() => parseUploadOptions({ ttl: '10m' }, { ttl: '7d' }, limits)).toThrow(/both as a form field and in the query/);
    expect(() => assertOnlyUploadOptions('query parameter', { 'downloads[]': '2' })).toThrow(
      'Unknown query parameter: "downloads[]". Allowed: ttl, downloads.',
    );
    expect(() => assertOnlyUploadOptions('query parameter', { ttl: '1h', downloads: '2' })).not.toThrow();
  });
  it.each([
    { ttl: '8d' },
    { ttl: '0' },
    { ttl: '0m' },
    { ttl: '24' },
    { ttl: '30s' },
    { ttl: ['1h', '2h'] },
    { downloads: '0' },
    { downloads: '101' },
    { downloads: '1e2' },
    { downloads: ['1', '2'] },
  ])('refuses %j', (raw) =>
    expect(() => parseUploadOptions(raw, {}, limits)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' })),
  );
});
