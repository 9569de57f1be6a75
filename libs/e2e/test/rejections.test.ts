import { describe, expect, it } from 'vitest';
import { E2EDecryptError, decryptStream, encryptStream, generateKey, type E2EDecryptErrorReason } from '../src/index.ts';
import { concat, cut, pipe, randomBytes, streamOf } from './helpers.ts';
import { referenceEncrypt } from './reference.ts';

const key = generateKey();
const RS = 100;
const PER = RS - 17;
const plain = randomBytes(4 * PER + 30); // four full records and a 47-byte final one
const cipher = await pipe([plain], encryptStream(key, { recordSize: RS }));
const salt = cipher.subarray(0, 16);
const record = (i: number) => cipher.subarray(21 + i * RS, Math.min(21 + (i + 1) * RS, cipher.length));
const header = cipher.subarray(0, 21);

/** Decrypts `body` whole, byte by byte and in odd pieces: every way must fail with the same reason. */
async function expectRejected(body: Uint8Array, reason: E2EDecryptErrorReason, withKey = key): Promise<void> {
  for (const sizes of [[body.length || 1], [1], [7, 99, 101]]) {
    const outcome = await pipe(cut(body, sizes), decryptStream(withKey)).then(
      () => 'decrypted',
      (error: unknown) => error,
    );
    expect(outcome, `pieces ${sizes.join(',')}`).toBeInstanceOf(E2EDecryptError);
    expect((outcome as E2EDecryptError).reason, `pieces ${sizes.join(',')}`).toBe(reason);
  }
}

function withByte(body: Uint8Array, index: number, change: (byte: number) => number): Uint8Array {
  const copy = body.slice();
  copy[index] = change(copy[index]!);
  return copy;
}

describe('decryption rejects', () => {
  it('the wrong key, as tampering (the first record does not authenticate)', async () => {
    await expectRejected(cipher, 'tampered', generateKey());
  });

  it('any altered byte: salt, record size, each record and each tag', async () => {
    await expectRejected(
      withByte(cipher, 3, (b) => b ^ 0x80),
      'tampered',
    ); // salt → other keys
    await expectRejected(
      withByte(cipher, 19, (b) => b ^ 0x01),
      'tampered',
    ); // rs 100 → 101: records shift
    for (const index of [21, 21 + RS - 1, 21 + 2 * RS + 50, cipher.length - 17, cipher.length - 1]) {
      await expectRejected(
        withByte(cipher, index, (b) => b ^ 0x01),
        'tampered',
      );
    }
  });

  it('records dropped, duplicated or reordered', async () => {
    await expectRejected(concat([header, record(0), record(2), record(3), record(4)]), 'tampered');
    await expectRejected(concat([header, record(0), record(0), record(1), record(2), record(3), record(4)]), 'tampered');
    await expectRejected(concat([header, record(1), record(0), record(2), record(3), record(4)]), 'tampered');
    // The final record moved to the front: its nonce (sequence) no longer matches.
    await expectRejected(concat([header, record(4)]), 'tampered');
  });

  it('truncation at every record boundary, and inside the header', async () => {
    for (let records = 0; records <= 4; records++) {
      await expectRejected(cipher.subarray(0, 21 + records * RS), 'truncated');
    }
    for (const length of [0, 1, 16, 20]) await expectRejected(cipher.subarray(0, length), 'truncated');
  });

  it('truncation inside a record: a tail too short to be a record, or a record cut short', async () => {
    for (const extra of [1, 16]) await expectRejected(cipher.subarray(0, 21 + 2 * RS + extra), 'truncated');
    // 17+ bytes of a cut record are taken as a short final record, which fails authentication.
    for (const extra of [17, 50, RS - 1]) await expectRejected(cipher.subarray(0, 21 + 2 * RS + extra), 'tampered');
    await expectRejected(cipher.subarray(0, cipher.length - 1), 'tampered');
  });

  it('data after the final record', async () => {
    // A short final record followed by anything becomes a longer record that does not authenticate.
    await expectRejected(concat([cipher, Uint8Array.of(0)]), 'tampered');
    // A full-size final record (0x02) followed by more data: a 0x02 record that is not the last.
    const full = await pipe([randomBytes(2 * PER)], encryptStream(key, { recordSize: RS }));
    await expect(pipe([full], decryptStream(key))).resolves.toHaveLength(2 * PER);
    await expectRejected(concat([full, randomBytes(40)]), 'format');
    await expectRejected(concat([full, new Uint8Array(1)]), 'format');
  });

  it('a 0x02 record that is not last, a last record with 0x01, a missing or invalid delimiter', async () => {
    const data = randomBytes(PER);
    const encode = (...delimiters: [number, number?][]) =>
      referenceEncrypt(
        key,
        salt,
        RS,
        delimiters.map(([delimiter, padding]) => ({
          data: padding === undefined ? data : data.subarray(0, 3),
          delimiter,
          padding,
        })),
      );
    await expectRejected(encode([2], [2, 0]), 'format');
    await expectRejected(encode([1], [1, 0]), 'truncated');
    await expectRejected(encode([1], [0, 5]), 'format'); // all zeros after the data: no delimiter
    await expectRejected(encode([3], [2, 0]), 'format');
    await expectRejected(encode([1], [0x82, 0]), 'format');
    // The same shapes with valid delimiters pass, padding included.
    await expect(pipe([encode([1], [2, 30])], decryptStream(key))).resolves.toHaveLength(PER + 3);
  });

  it('record sizes below 18 or above 16 MiB, before reading any record', async () => {
    for (const rs of [0, 1, 17, 16 * 1024 * 1024 + 1, 2 ** 32 - 1]) {
      const forged = header.slice();
      new DataView(forged.buffer).setUint32(16, rs);
      await expectRejected(forged, 'format');
      await expectRejected(concat([forged, record(0)]), 'format');
    }
  });

  it('reports the failure even when the plaintext before it was already released', async () => {
    const released: Uint8Array[] = [];
    const broken = withByte(cipher, 21 + 3 * RS + 5, (b) => b ^ 1);
    const outcome = await streamOf(cut(broken, [RS]))
      .pipeThrough(decryptStream(key))
      .pipeTo(new WritableStream({ write: (chunk) => void released.push(chunk) }))
      .then(
        () => 'completed',
        (error: unknown) => error,
      );
    expect(outcome).toBeInstanceOf(E2EDecryptError);
    // Only authenticated records were released, and fewer than all of them.
    const bytes = concat(released);
    expect(bytes.length).toBeLessThanOrEqual(3 * PER);
    expect(Buffer.compare(bytes, plain.subarray(0, bytes.length))).toBe(0);
  });
});
