import { describe, expect, it } from 'vitest';
import {
  E2EFormatError,
  E2EKeyError,
  MAX_SEALED_METADATA_LENGTH,
  generateKey,
  openMetadata,
  sealMetadata,
  type E2EMetadata,
} from '../src/index.ts';
import { b64u, fromB64u } from './helpers.ts';
import { referenceOpenMetadata, referenceSealMetadata } from './reference.ts';

const key = generateKey();
const meta: E2EMetadata = { name: 'holiday plan.pdf', type: 'application/pdf', size: 1_234_567 };

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'opened',
    (error: unknown) => error,
  );

describe('sealed metadata', () => {
  it('round-trips, and a reader following the spec (node:crypto) opens it', async () => {
    const sealed = await sealMetadata(key, meta);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await openMetadata(key, sealed)).toEqual(meta);
    expect(referenceOpenMetadata(key, sealed)).toEqual(meta);
    expect(fromB64u(sealed).length).toBe(1 + 12 + JSON.stringify(meta).length + 16);
  });

  it('uses a fresh IV each time', async () => {
    const [a, b] = await Promise.all([sealMetadata(key, meta), sealMetadata(key, meta)]);
    expect(a).not.toBe(b);
  });

  it('round-trips unusual but valid values', async () => {
    for (const value of [
      { name: 'a', type: '', size: 0 },
      { name: '"quoted" \\ back\\slash', type: 'text/plain; charset="utf-8"', size: Number.MAX_SAFE_INTEGER },
      { name: '名前 🎉 Ünïcødé', type: 'x'.repeat(255), size: 1 },
      { name: '\u2028\u2029\u200e', type: 'a/b', size: 5 },
    ]) {
      expect(await openMetadata(key, await sealMetadata(key, value))).toEqual(value);
    }
  });

  it('stays under 2 KiB for any 255-byte name, and for 255-code-point names from sanitizeFileName', async () => {
    const worst = { name: '"'.repeat(255), type: '"'.repeat(255), size: Number.MAX_SAFE_INTEGER };
    expect((await sealMetadata(key, worst)).length).toBeLessThan(2048);
    const wide = {
      name: '🎉'.repeat(255),
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      size: 1,
    };
    expect((await sealMetadata(key, wide)).length).toBeLessThan(2048);
    const cjk = { name: '名'.repeat(85), type: 'x/y', size: 1 }; // 255 UTF-8 bytes
    expect((await sealMetadata(key, cjk)).length).toBeLessThan(2048);
    expect(MAX_SEALED_METADATA_LENGTH).toBe(2048);
  });

  it('refuses to seal what it would refuse to open', async () => {
    for (const bad of [
      { ...meta, name: '' },
      { ...meta, name: 'line\nbreak' },
      { ...meta, name: 'nul\u0000' },
      { ...meta, name: 'del\u007f' },
      { ...meta, name: 'lone \ud800 surrogate' },
      { ...meta, type: 'é/x' },
      { ...meta, type: 'x'.repeat(256) },
      { ...meta, size: -1 },
      { ...meta, size: 1.5 },
      { ...meta, size: Number.MAX_SAFE_INTEGER + 1 },
      { ...meta, size: Number.NaN },
      { ...meta, name: '🎉'.repeat(400) }, // beyond the JSON cap
      { ...meta, name: 42 } as unknown as E2EMetadata,
    ]) {
      await expect(sealMetadata(key, bad), JSON.stringify(bad)).rejects.toThrow(RangeError);
    }
  });

  it('says the key is wrong when it does not authenticate: another key, or any altered byte', async () => {
    const sealed = await sealMetadata(key, meta);
    const wrong = await failureOf(openMetadata(generateKey(), sealed));
    expect(wrong).toBeInstanceOf(E2EKeyError);
    expect((wrong as E2EKeyError).reason).toBe('wrong');
    const bytes = fromB64u(sealed);
    for (const index of [1, 12, 13, 20, bytes.length - 1]) {
      const altered = bytes.slice();
      altered[index]! ^= 1;
      expect(await failureOf(openMetadata(key, b64u(altered))), `byte ${index}`).toMatchObject({
        name: 'E2EKeyError',
        reason: 'wrong',
      });
    }
  });

  it('says the format is wrong for bad encoding, unknown version, short or oversized input', async () => {
    const sealed = await sealMetadata(key, meta);
    const bytes = fromB64u(sealed);
    const versionTwo = bytes.slice();
    versionTwo[0] = 2;
    for (const bad of [
      '',
      'A',
      `${sealed}=`,
      `${sealed.slice(0, 10)}+${sealed.slice(11)}`,
      ` ${sealed}`,
      b64u(versionTwo),
      b64u(bytes.subarray(0, 28)),
      'A'.repeat(2052),
      referenceSealMetadata(key, new TextEncoder().encode(JSON.stringify(meta)), 2),
    ]) {
      expect(await failureOf(openMetadata(key, bad)), bad.slice(0, 40)).toBeInstanceOf(E2EFormatError);
    }
  });

  it('checks the authenticated payload strictly', async () => {
    const encode = (value: unknown) => referenceSealMetadata(key, new TextEncoder().encode(JSON.stringify(value)));
    // The reference seal is a faithful one: a good payload opens.
    expect(await openMetadata(key, encode(meta))).toEqual(meta);
    for (const sealed of [
      encode({ ...meta, extra: 1 }),
      encode({ name: meta.name, type: meta.type }),
      encode({ ...meta, size: '12' }),
      encode({ ...meta, size: -5 }),
      encode({ ...meta, size: 2.5 }),
      encode({ ...meta, name: null }),
      encode({ ...meta, name: 'bell\u0007' }),
      encode({ ...meta, type: 7 }),
      encode([meta.name, meta.type, meta.size]),
      encode(null),
      encode('text'),
      referenceSealMetadata(key, new TextEncoder().encode('{"name": "a", ')),
      referenceSealMetadata(key, Uint8Array.of(0x7b, 0xff, 0x7d)), // not UTF-8
      referenceSealMetadata(key, new TextEncoder().encode('{"name":"\\ud800","type":"","size":1}')), // lone surrogate
    ]) {
      expect(await failureOf(openMetadata(key, sealed))).toBeInstanceOf(E2EFormatError);
    }
  });

  it('refuses a key that is not 16 bytes', async () => {
    await expect(sealMetadata(new Uint8Array(8), meta)).rejects.toMatchObject({ reason: 'malformed' });
    await expect(openMetadata(new Uint8Array(32), 'AA')).rejects.toMatchObject({ reason: 'malformed' });
  });
});
