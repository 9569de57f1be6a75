import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  E2EDecryptError,
  decryptStream,
  encryptStream,
  encryptedSize,
  keyFromFragment,
  keyToFragment,
  openMetadata,
} from '../src/index.ts';
import { sealMetadataWithIv } from '../src/metadata.ts';
import { b64u, fromB64u, pipe } from './helpers.ts';
import { referenceDecrypt, referenceOpenMetadata } from './reference.ts';
import { buildVectors, plaintextOf, type Vectors } from './vector-cases.ts';

const vectors = JSON.parse(readFileSync(new URL('../test-vectors.json', import.meta.url), 'utf8')) as Vectors;

describe('test-vectors.json', () => {
  it('holds every case, as the cases compute it today', async () => {
    expect(vectors.content.length).toBeGreaterThanOrEqual(10);
    expect(vectors.decryptOnly.length).toBeGreaterThanOrEqual(3);
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(14);
    expect(vectors.metadata.length).toBeGreaterThanOrEqual(3);
    expect(await buildVectors()).toEqual(vectors);
  });

  describe.each(vectors.content)('content: $description', (vector) => {
    const key = fromB64u(vector.key);
    const plain = plaintextOf(vector);

    it('encrypts to the expected bytes, which the node:crypto reference reads back', async () => {
      const cipher = await pipe([plain], encryptStream(key, { recordSize: vector.recordSize, salt: fromB64u(vector.salt) }));
      expect(b64u(cipher)).toBe(vector.ciphertext);
      expect(cipher.length).toBe(encryptedSize(plain.length, vector.recordSize));
      expect(b64u(referenceDecrypt(key, cipher))).toBe(b64u(plain));
    });

    it('decrypts to the plaintext, whole and byte by byte', async () => {
      const cipher = fromB64u(vector.ciphertext);
      expect(b64u(await pipe([cipher], decryptStream(key)))).toBe(b64u(plain));
      if (cipher.length < 2000) {
        const bytes = Array.from(cipher, (byte) => Uint8Array.of(byte));
        expect(b64u(await pipe(bytes, decryptStream(key)))).toBe(b64u(plain));
      }
    });
  });

  it.each(vectors.decryptOnly)('decrypt only: $description', async (vector) => {
    const plain = await pipe([fromB64u(vector.ciphertext)], decryptStream(fromB64u(vector.key)));
    expect(b64u(plain)).toBe(vector.plaintext);
    expect(b64u(referenceDecrypt(fromB64u(vector.key), fromB64u(vector.ciphertext)))).toBe(vector.plaintext);
  });

  it.each(vectors.invalid)('invalid: $description → $reason', async (vector) => {
    const failure = await pipe([fromB64u(vector.ciphertext)], decryptStream(fromB64u(vector.key))).then(
      () => 'decrypted',
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(E2EDecryptError);
    expect((failure as E2EDecryptError).reason).toBe(vector.reason);
    expect(() => referenceDecrypt(fromB64u(vector.key), fromB64u(vector.ciphertext))).toThrow();
  });

  it.each(vectors.metadata)('metadata: $description', async (vector) => {
    const key = fromB64u(vector.key);
    expect(await sealMetadataWithIv(key, vector.metadata, fromB64u(vector.iv))).toBe(vector.sealed);
    expect(await openMetadata(key, vector.sealed)).toEqual(vector.metadata);
    expect(referenceOpenMetadata(key, vector.sealed)).toEqual(vector.metadata);
    expect(fromB64u(vector.sealed)[0]).toBe(1); // the version byte
  });

  it.each(vectors.fragments)('fragment $fragment', (vector) => {
    const key = Uint8Array.from(Buffer.from(vector.key, 'hex'));
    expect(keyToFragment(key)).toBe(vector.fragment);
    expect(Buffer.from(keyFromFragment(`#${vector.fragment}`)).toString('hex')).toBe(vector.key);
  });

  it('notices a vector that no longer matches', async () => {
    // The comparison above is not vacuous: the same check on a one-bit change fails.
    const vector = vectors.content.find((v) => v.recordSize === 32)!;
    const changed = fromB64u(vector.ciphertext);
    changed[changed.length - 1]! ^= 1;
    const cipher = await pipe(
      [plaintextOf(vector)],
      encryptStream(fromB64u(vector.key), { recordSize: 32, salt: fromB64u(vector.salt) }),
    );
    expect(b64u(cipher)).not.toBe(b64u(changed));
    await expect(pipe([changed], decryptStream(fromB64u(vector.key)))).rejects.toMatchObject({ reason: 'tampered' });
  });
});
