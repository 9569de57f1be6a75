import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { fileIdForCode, fileKeyForCode, generateCode } from '@one-time/core';
import {
  CHUNK_BYTES,
  IntegrityError,
  decryptStream,
  decryptWhole,
  encryptStream,
  encryptWhole,
  encryptedSize,
  open,
  seal,
} from '../src/index.ts';

const key = randomBytes(32);
const encrypt = (data: Buffer, k = key) => buffer(Readable.from([data]).pipe(encryptStream(k)));
const decrypt = (data: Buffer, k = key) => buffer(Readable.from([data]).pipe(decryptStream(k)));

describe('secret stream', () => {
  it.each([0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 5])(
    'round-trips %i bytes at the predicted size',
    async (size) => {
      const plain = randomBytes(size);
      const cipher = await encrypt(plain);
      expect(cipher.length).toBe(encryptedSize(size));
      expect(await decrypt(cipher)).toEqual(plain);
    },
  );

  it('round-trips when input arrives in odd pieces', async () => {
    const plain = randomBytes(2 * CHUNK_BYTES + 99);
    const pieces = [plain.subarray(0, 7), plain.subarray(7, 70_000), plain.subarray(70_000)];
    const cipher = await buffer(Readable.from(pieces).pipe(encryptStream(key)));
    const cipherPieces = [cipher.subarray(0, 3), cipher.subarray(3, 100_000), cipher.subarray(100_000)];
    expect(await buffer(Readable.from(cipherPieces).pipe(decryptStream(key)))).toEqual(plain);
  });

  it('round-trips input that arrives in many small pieces across chunk boundaries', async () => {
    const plain = randomBytes(2 * CHUNK_BYTES + 4321);
    const pieces = Array.from({ length: Math.ceil(plain.length / 997) }, (_, i) => plain.subarray(i * 997, (i + 1) * 997));
    const cipher = await buffer(Readable.from(pieces).pipe(encryptStream(key)));
    expect(cipher.length).toBe(encryptedSize(plain.length));
    const cipherPieces = Array.from({ length: Math.ceil(cipher.length / 1013) }, (_, i) =>
      cipher.subarray(i * 1013, (i + 1) * 1013),
    );
    expect(await buffer(Readable.from(cipherPieces).pipe(decryptStream(key)))).toEqual(plain);
  });

  it.each([0, 1, 1024, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES + 7])(
    'encrypts and decrypts %i bytes whole, in the layout the streams make and read',
    async (size) => {
      const plain = randomBytes(size);
      const whole = encryptWhole(key, plain);
      expect(whole.length).toBe(encryptedSize(size));
      expect(await decrypt(whole)).toEqual(plain);
      expect(decryptWhole(key, whole)).toEqual(plain);
      expect(decryptWhole(key, await encrypt(plain))).toEqual(plain);
      expect(encryptWhole(key, plain).equals(whole)).toBe(false); // a fresh header (nonce) each time
    },
  );

  it('detects a flipped byte, truncation, a dropped or swapped chunk, and the wrong key', async () => {
    const cipher = await encrypt(randomBytes(3 * CHUNK_BYTES));
    const flipped = Buffer.from(cipher);
    flipped[cipher.length >> 1] = (flipped[cipher.length >> 1] ?? 0) ^ 1;
    const chunk = CHUNK_BYTES + 17;
    const header = cipher.subarray(0, 24);
    const chunks = [0, 1, 2].map((i) => cipher.subarray(24 + i * chunk, 24 + (i + 1) * chunk));
    const cases = {
      flipped,
      truncated: cipher.subarray(0, cipher.length - 10),
      'last chunk dropped': Buffer.concat([header, ...chunks.slice(0, 2)]),
      swapped: Buffer.concat([header, chunks[1]!, chunks[0]!, chunks[2]!]),
      'header only': header,
    };
    for (const [name, data] of Object.entries({
      ...cases,
      'data after the final chunk': Buffer.concat([cipher, chunks[0]!]),
      'cut inside the header': header.subarray(0, 10),
    })) {
      await expect(decrypt(data), name).rejects.toBeInstanceOf(IntegrityError);
      expect(() => decryptWhole(key, data), name).toThrow(IntegrityError);
    }
    await expect(decrypt(cipher, randomBytes(32))).rejects.toBeInstanceOf(IntegrityError);
    expect(() => decryptWhole(randomBytes(32), cipher)).toThrow(IntegrityError);
  });
});

describe('sealed values and keys', () => {
  it('seals and opens, bound to their context', () => {
    const sealed = seal(key, 'rapport final ✓.pdf', 'name');
    expect(sealed).not.toContain('rapport');
    expect(open(key, sealed, 'name')).toBe('rapport final ✓.pdf');
    expect(() => open(key, sealed, 'contentType')).toThrow(IntegrityError);
    expect(() => open(randomBytes(32), sealed, 'name')).toThrow(IntegrityError);
  });

  it('derives an id and a key that differ from each other and from the code', () => {
    const code = generateCode();
    const id = fileIdForCode(code);
    const fileKey = fileKeyForCode(code);
    expect(fileKey).toHaveLength(32);
    expect(Buffer.from(id, 'base64url').equals(fileKey)).toBe(false);
    expect(id).not.toContain(code);
    expect(fileKeyForCode(code).equals(fileKey)).toBe(true);
  });
});
