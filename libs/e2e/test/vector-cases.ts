/**
 * The cases of libs/e2e/test-vectors.json and how each expected value is computed. `generate-vectors.ts`
 * writes the file from these once; the tests recompute every value and compare, so a change to the format
 * (or to the file) fails them. Valid content is encrypted by the library (and cross-checked against the
 * node:crypto reference by the tests); invalid inputs are crafted with the reference encoder.
 */
import { encryptStream, keyToFragment } from '../src/index.ts';
import { sealMetadataWithIv } from '../src/metadata.ts';
import { b64u, fromB64u, pattern, pipe } from './helpers.ts';
import { referenceEncrypt, type RawRecord } from './reference.ts';

export interface ContentVector {
  readonly description: string;
  readonly key: string;
  readonly salt: string;
  readonly recordSize: number;
  /** Either the plaintext itself, or `plaintextPattern` (byte i = i mod 251) for long ones. */
  readonly plaintext?: string;
  readonly plaintextPattern?: { readonly length: number };
  readonly ciphertext: string;
}
export interface DecryptVector {
  readonly description: string;
  readonly key: string;
  readonly ciphertext: string;
  readonly plaintext: string;
}
export interface InvalidVector {
  readonly description: string;
  readonly key: string;
  readonly ciphertext: string;
  readonly reason: 'truncated' | 'tampered' | 'format';
}
export interface MetadataVector {
  readonly description: string;
  readonly key: string;
  readonly iv: string;
  readonly metadata: { readonly name: string; readonly type: string; readonly size: number };
  readonly sealed: string;
}
export interface FragmentVector {
  readonly key: string;
  readonly fragment: string;
}
export interface Vectors {
  readonly about: string;
  readonly content: readonly ContentVector[];
  readonly decryptOnly: readonly DecryptVector[];
  readonly invalid: readonly InvalidVector[];
  readonly metadata: readonly MetadataVector[];
  readonly fragments: readonly FragmentVector[];
}

const KEY = 'lbL8yOeEJkN4mUqkIHf6tQ';
const SALT = 'ZH4wN9n0WgUfZ2uvXL6pdw';
const OTHER_KEY = 'QkS5mF8oHTvOxP0s1lZq7w';
const text = (value: string) => b64u(new TextEncoder().encode(value));

/** Plaintext of a content vector. */
export function plaintextOf(vector: ContentVector): Uint8Array {
  if (vector.plaintext !== undefined) return fromB64u(vector.plaintext);
  if (vector.plaintextPattern) return pattern(vector.plaintextPattern.length);
  throw new Error(`${vector.description}: no plaintext`);
}

async function content(
  description: string,
  recordSize: number,
  plain: { plaintext: string } | { plaintextPattern: { length: number } },
): Promise<ContentVector> {
  const partial = { description, key: KEY, salt: SALT, recordSize, ...plain, ciphertext: '' };
  const ciphertext = await pipe([plaintextOf(partial)], encryptStream(fromB64u(KEY), { recordSize, salt: fromB64u(SALT) }));
  return { ...partial, ciphertext: b64u(ciphertext) };
}

function invalid(description: string, reason: InvalidVector['reason'], body: Uint8Array, key = KEY): InvalidVector {
  return { description, key, ciphertext: b64u(body), reason };
}

/** Records under rs 25 (7 data bytes + delimiter + 1 padding byte fill one), delimiters and padding as given. */
function crafted(records: readonly RawRecord[], rs = 25): Buffer {
  return referenceEncrypt(fromB64u(KEY), fromB64u(SALT), rs, records);
}
const seven = new TextEncoder().encode('one-tim');

async function metadata(description: string, iv: string, meta: MetadataVector['metadata']): Promise<MetadataVector> {
  return { description, key: KEY, iv, metadata: meta, sealed: await sealMetadataWithIv(fromB64u(KEY), meta, fromB64u(iv)) };
}

export async function buildVectors(): Promise<Vectors> {
  const valid = await content('three records at rs 32: 15 + 15 + 5 bytes', 32, {
    plaintext: text('Each record holds fifteen bytes.'),
  });
  const validBody = fromB64u(valid.ciphertext);
  return {
    about:
      'one-time e2e format test vectors (docs/e2e-format.md). Binary values are base64url without padding. ' +
      'content: encrypt(key, salt, recordSize, plaintext) must give ciphertext exactly, and decrypting it must give the plaintext; ' +
      'plaintextPattern {length} means byte i = i mod 251. decryptOnly: RFC 8188 section 3 examples (padding, keyid). ' +
      'invalid: decryption must fail with the given reason. metadata: sealing with the given iv must give sealed exactly. ' +
      'fragments: keyToFragment(key) = fragment.',
    content: [
      await content('empty file, default record size', 65536, { plaintext: '' }),
      await content('one byte, default record size', 65536, { plaintext: text('!') }),
      await content('text, default record size', 65536, { plaintext: text('hello, one-time 👋') }),
      await content('smallest record size (18): one data byte per record', 18, { plaintext: text('abc') }),
      await content('rs 32, rs-18 = 14 bytes: one short record', 32, { plaintext: text('fourteen bytes') }),
      await content('rs 32, rs-17 = 15 bytes: one full record, final', 32, { plaintext: text('fifteen bytes!!') }),
      await content('rs 32, rs-16 = 16 bytes: a full record and a 1-byte final record', 32, {
        plaintext: text('sixteen bytes!!!'),
      }),
      valid,
      await content('rs 100, 500 bytes: six records', 100, { plaintextPattern: { length: 500 } }),
      await content('default record size, 65520 bytes: a full record and a 1-byte final record', 65536, {
        plaintextPattern: { length: 65520 },
      }),
    ],
    decryptOnly: [
      {
        description: 'RFC 8188 section 3.1: single record, rs 4096',
        key: 'yqdlZ-tYemfogSmv7Ws5PQ',
        ciphertext: 'I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg',
        plaintext: text('I am the walrus'),
      },
      {
        description: 'RFC 8188 section 3.2: two records, rs 25, keyid "a1", one padding byte in the first record',
        key: 'BO3ZVPxUlnLORbVGMpbT1Q',
        ciphertext: 'uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA',
        plaintext: text('I am the walrus'),
      },
      {
        description: 'padding in both records (7 data bytes + 1 zero byte, then 1 data byte + 4 zero bytes), rs 25',
        key: KEY,
        ciphertext: b64u(
          crafted([
            { data: seven, delimiter: 1, padding: 1 },
            { data: seven.subarray(0, 1), delimiter: 2, padding: 4 },
          ]),
        ),
        plaintext: text('one-timo'),
      },
    ],
    invalid: [
      invalid('wrong key', 'tampered', validBody, OTHER_KEY),
      invalid('one ciphertext bit flipped in the second record', 'tampered', flip(validBody, 21 + 32 + 3)),
      invalid('the first two records swapped', 'tampered', swapRecords(validBody, 32)),
      invalid('final record removed (ends at a record boundary)', 'truncated', validBody.subarray(0, 21 + 64)),
      invalid('cut inside the final record', 'tampered', validBody.subarray(0, validBody.length - 1)),
      invalid('cut leaving 16 bytes of the final record', 'truncated', validBody.subarray(0, 21 + 64 + 16)),
      invalid('header only', 'truncated', validBody.subarray(0, 21)),
      invalid('cut inside the header', 'truncated', validBody.subarray(0, 20)),
      invalid('record size 17', 'format', withRecordSize(validBody, 17)),
      invalid('record size above 16 MiB', 'format', withRecordSize(validBody, 16 * 1024 * 1024 + 1)),
      invalid(
        'data after the final record',
        'format',
        crafted([
          { data: seven, delimiter: 2, padding: 1 },
          { data: seven, delimiter: 2 },
        ]),
      ),
      invalid('single record with delimiter 0x01 (no final record)', 'truncated', crafted([{ data: seven, delimiter: 1 }])),
      invalid('record with an invalid delimiter 0x03', 'format', crafted([{ data: seven, delimiter: 3 }])),
      invalid(
        'record made only of zero bytes (no delimiter)',
        'format',
        crafted([{ data: new Uint8Array(0), delimiter: 0, padding: 7 }]),
      ),
    ],
    metadata: [
      await metadata('ASCII name', 'AAECAwQFBgcICQoL', { name: 'report.pdf', type: 'application/pdf', size: 123456 }),
      await metadata('Unicode name with quotes and a backslash, empty type, empty file', 'DA0ODxAREhMUFRYX', {
        name: 'Ünïcødé "quoted" \\ 名前 🎉.txt',
        type: '',
        size: 0,
      }),
      await metadata('largest size', '________________', {
        name: 'big.iso',
        type: 'application/octet-stream',
        size: Number.MAX_SAFE_INTEGER,
      }),
    ],
    fragments: [KEY, OTHER_KEY, 'AAAAAAAAAAAAAAAAAAAAAA', '_____________________w'].map((fragment) => ({
      key: Buffer.from(fromB64u(fragment)).toString('hex'),
      fragment: keyToFragment(fromB64u(fragment)),
    })),
  };
}

function flip(body: Uint8Array, index: number): Uint8Array {
  const copy = body.slice();
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

function swapRecords(body: Uint8Array, rs: number): Uint8Array {
  const copy = body.slice();
  copy.set(body.subarray(21 + rs, 21 + 2 * rs), 21);
  copy.set(body.subarray(21, 21 + rs), 21 + rs);
  return copy;
}

function withRecordSize(body: Uint8Array, rs: number): Uint8Array {
  const copy = body.slice();
  new DataView(copy.buffer).setUint32(16, rs);
  return copy;
}
