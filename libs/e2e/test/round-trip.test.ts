import { describe, expect, it } from 'vitest';
import { DEFAULT_RECORD_SIZE, E2EKeyError, decryptStream, encryptStream, encryptedSize, generateKey } from '../src/index.ts';
import { b64u, cut, pipe, randomBytes } from './helpers.ts';
import { referenceDecrypt, referenceEncryptPlain } from './reference.ts';

const RS = DEFAULT_RECORD_SIZE;
const key = generateKey();

async function roundTrip(plain: Uint8Array, options: { recordSize?: number; inSizes?: number[]; outSizes?: number[] } = {}) {
  const recordSize = options.recordSize ?? RS;
  const cipher = await pipe(cut(plain, options.inSizes ?? [plain.length || 1]), encryptStream(key, { recordSize }));
  expect(cipher.length).toBe(encryptedSize(plain.length, recordSize));
  const back = await pipe(cut(cipher, options.outSizes ?? [cipher.length]), decryptStream(key));
  expect(back.length).toBe(plain.length);
  expect(Buffer.compare(back, plain)).toBe(0);
  return cipher;
}

describe('round trips', () => {
  it.each([0, 1, RS - 18, RS - 17, RS - 16, RS, 2 * (RS - 17), 2 * (RS - 17) + 1, 5 * RS + 12_345])(
    '%i bytes at the default record size, agreeing with the node:crypto reference',
    async (size) => {
      const plain = randomBytes(size);
      const cipher = await roundTrip(plain);
      expect(Buffer.compare(referenceDecrypt(key, cipher), plain)).toBe(0);
    },
  );

  it('writes full records of exactly rs bytes and only the last one shorter', async () => {
    const rs = 100;
    const plain = randomBytes(10 * 83 + 40);
    const cipher = await roundTrip(plain, { recordSize: rs });
    expect(cipher.length).toBe(21 + 10 * rs + 40 + 17);
    // Same bytes as the reference split: full records are rs, the final one holds the rest with 0x02.
    const salt = cipher.subarray(0, 16);
    expect(b64u(referenceEncryptPlain(key, salt, rs, plain))).toBe(b64u(cipher));
  });

  it.each([18, 19, 32, 4096, 65_537, 1_000_000])('record size %i, many records', async (recordSize) => {
    await roundTrip(randomBytes(Math.min(3 * recordSize + 7, 300_000)), { recordSize });
  });

  it('the largest record size a reader accepts (16 MiB), over two records', async () => {
    await roundTrip(randomBytes(16 * 1024 * 1024 + 5), { recordSize: 16 * 1024 * 1024, outSizes: [65_536] });
  });

  it('takes input and ciphertext cut anywhere: single bytes, primes, exact and off-by-one record sizes', async () => {
    const rs = 64;
    const plain = randomBytes(5 * (rs - 17) + 3);
    for (const inSizes of [[1], [2, 3, 5, 7, 11], [rs - 17], [rs - 16], [rs - 18], [rs], [1000]]) {
      for (const outSizes of [[1], [13, 1, 64], [rs], [rs + 1], [rs - 1], [21], [20, 2]]) {
        await roundTrip(plain, { recordSize: rs, inSizes, outSizes });
      }
    }
  });

  it('takes a chunk of many MiB at once, and ciphertext in 1-byte to MiB pieces', async () => {
    const plain = randomBytes(12 * 1024 * 1024 + 5);
    await roundTrip(plain, { inSizes: [plain.length], outSizes: [3 * 1024 * 1024 + 1, 7, 65_536, 65_537, 1] });
    await roundTrip(plain, { inSizes: [1, 65_535, 1_000_003], outSizes: [plain.length + 100_000] });
  });

  it('reads chunks that are views into larger buffers, or SharedArrayBuffer-backed', async () => {
    const plain = randomBytes(3 * RS);
    const backing = new Uint8Array(plain.length + 10);
    backing.set(plain, 5);
    const cipher = await pipe([backing.subarray(5, 5 + RS), backing.subarray(5 + RS, 5 + plain.length)], encryptStream(key));
    const shared = new Uint8Array(new SharedArrayBuffer(cipher.length));
    shared.set(cipher);
    expect(Buffer.compare(await pipe([shared], decryptStream(key)), plain)).toBe(0);
  });

  it('uses a fresh random salt every time', async () => {
    const a = await pipe([new Uint8Array(10)], encryptStream(key));
    const b = await pipe([new Uint8Array(10)], encryptStream(key));
    expect(b64u(a.subarray(0, 16))).not.toBe(b64u(b.subarray(0, 16)));
    expect(b64u(a.subarray(21))).not.toBe(b64u(b.subarray(21)));
  });

  it('streams: output flows before the input ends, in both directions', async () => {
    const total = 64;
    let pulled = 0;
    let pulledAtFirstOutput = -1;
    const source = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled === total) return controller.close();
          pulled += 1;
          controller.enqueue(randomBytes(RS));
        },
      });
    const watch = new WritableStream<Uint8Array>({
      write() {
        if (pulledAtFirstOutput < 0) pulledAtFirstOutput = pulled;
      },
    });
    await source().pipeThrough(encryptStream(key)).pipeThrough(decryptStream(key)).pipeTo(watch);
    expect(pulledAtFirstOutput).toBeGreaterThan(0);
    expect(pulledAtFirstOutput).toBeLessThan(total / 2);
  });
});

describe('encryptedSize', () => {
  it('equals the real output length across sizes and record sizes', async () => {
    for (const recordSize of [18, 25, 100, RS]) {
      const per = recordSize - 17;
      for (const size of [0, 1, per - 1, per, per + 1, 2 * per, 2 * per + 1, 7 * per + 3]) {
        const cipher = await pipe([randomBytes(size)], encryptStream(key, { recordSize }));
        expect(encryptedSize(size, recordSize), `${size} @ ${recordSize}`).toBe(cipher.length);
      }
    }
  });

  it('is the header plus 17 bytes per record, for any size', () => {
    expect(encryptedSize(0)).toBe(21 + 17);
    expect(encryptedSize(RS - 17)).toBe(21 + RS);
    expect(encryptedSize(RS - 16)).toBe(21 + RS + 18);
    expect(encryptedSize(1024 ** 3)).toBe(21 + 1024 ** 3 + 17 * Math.ceil(1024 ** 3 / (RS - 17)));
    expect(() => encryptedSize(-1)).toThrow(RangeError);
    expect(() => encryptedSize(1.5)).toThrow(RangeError);
    expect(() => encryptedSize(10, 17)).toThrow(RangeError);
  });
});

describe('arguments', () => {
  it('refuses a key that is not 16 bytes, a bad record size or salt, and chunks that are not bytes', async () => {
    for (const bad of [new Uint8Array(15), new Uint8Array(32)]) {
      expect(() => encryptStream(bad)).toThrow(E2EKeyError);
      expect(() => decryptStream(bad)).toThrow(E2EKeyError);
    }
    for (const recordSize of [0, 17, 16 * 1024 * 1024 + 1, 100.5, Number.NaN]) {
      expect(() => encryptStream(key, { recordSize })).toThrow(RangeError);
    }
    expect(() => encryptStream(key, { recordSize: 18 })).not.toThrow();
    expect(() => encryptStream(key, { recordSize: 16 * 1024 * 1024 })).not.toThrow();
    expect(() => encryptStream(key, { salt: new Uint8Array(15) })).toThrow(RangeError);
    await expect(pipe(['text' as unknown as Uint8Array], encryptStream(key))).rejects.toThrow(TypeError);
  });
});
