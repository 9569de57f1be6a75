import { describe, expect, it } from 'vitest';
import { decryptStream, encryptStream, keyFromFragment } from '../src/index.ts';
import { deriveRecordKeys } from '../src/ece-keys.ts';
import { b64u, cut, fromB64u, pipe } from './helpers.ts';

// RFC 8188 section 3, verbatim (base64url). Note: §3.1 says "54 octet content body"; it is 53 octets
// (21 header + 15 data + 1 delimiter + 16 tag), a known erratum of the RFC text.
const EXAMPLE_1 = {
  ikm: 'yqdlZ-tYemfogSmv7Ws5PQ',
  body: 'I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg',
  salt: 'I1BsxtFttlv3u_Oo94xnmw',
  nonce: 'Bcs8gkIRKLI8GeI8',
};
const EXAMPLE_2 = {
  ikm: 'BO3ZVPxUlnLORbVGMpbT1Q',
  body: 'uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA',
};
const WALRUS = 'I am the walrus';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('RFC 8188 examples', () => {
  it('§3.1: one record, rs 4096, decrypts in any chunking', async () => {
    const body = fromB64u(EXAMPLE_1.body);
    expect(body.length).toBe(53);
    for (const sizes of [[body.length], [1], [20, 21, 22], [21], [36, 1]]) {
      expect(text(await pipe(cut(body, sizes), decryptStream(keyFromFragment(EXAMPLE_1.ikm))))).toBe(WALRUS);
    }
  });

  it('§3.1: encrypting with its salt and rs gives its body', async () => {
    const body = await pipe(
      [new TextEncoder().encode(WALRUS)],
      encryptStream(fromB64u(EXAMPLE_1.ikm), { recordSize: 4096, salt: fromB64u(EXAMPLE_1.salt) }),
    );
    expect(b64u(body)).toBe(EXAMPLE_1.body);
  });

  it('§3.1: the nonce matches the published intermediate value', async () => {
    const keys = await deriveRecordKeys(new Uint8Array(fromB64u(EXAMPLE_1.ikm)), new Uint8Array(fromB64u(EXAMPLE_1.salt)));
    expect(b64u(keys.nonce(0))).toBe(EXAMPLE_1.nonce);
  });

  it('§3.2: two records of rs 25, a keyid "a1" and padding, decrypt in any chunking', async () => {
    const body = fromB64u(EXAMPLE_2.body);
    expect(body.length).toBe(73);
    expect(new DataView(body.buffer).getUint32(16)).toBe(25);
    expect(text(body.subarray(21, 23))).toBe('a1');
    for (const sizes of [[body.length], [1], [22], [23, 25], [48, 1], [47, 26], [7, 13]]) {
      expect(text(await pipe(cut(body, sizes), decryptStream(keyFromFragment(EXAMPLE_2.ikm))))).toBe(WALRUS);
    }
  });
});

describe('record nonces', () => {
  it('are the nonce base XOR the 96-bit big-endian sequence number', async () => {
    const keys = await deriveRecordKeys(new Uint8Array(fromB64u(EXAMPLE_1.ikm)), new Uint8Array(fromB64u(EXAMPLE_1.salt)));
    const base = BigInt(`0x${Buffer.from(keys.nonce(0)).toString('hex')}`);
    for (const seq of [1, 2, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12_345, 2 ** 48 - 1]) {
      const expected = (base ^ BigInt(seq)).toString(16).padStart(24, '0');
      expect(Buffer.from(keys.nonce(seq)).toString('hex'), String(seq)).toBe(expected);
    }
    expect(() => keys.nonce(2 ** 48)).toThrow(RangeError);
    expect(() => keys.nonce(-1)).toThrow(RangeError);
  });
});
