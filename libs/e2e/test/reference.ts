/**
 * An independent, one-shot RFC 8188 implementation on node:crypto (not Web Crypto, not streaming), used only by
 * the tests: it cross-checks the library's output and crafts inputs the library would never write (padding,
 * a keyid, wrong delimiters) to exercise the decrypter. Kept deliberately literal to the RFC's text.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';

export interface RawRecord {
  readonly data: Uint8Array;
  readonly delimiter: number;
  readonly padding?: number;
}

function recordKeys(ikm: Uint8Array, salt: Uint8Array): { cek: Buffer; nonce: (seq: number) => Buffer } {
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const base = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const nonce = (seq: number): Buffer => {
    const out = Buffer.from(base);
    const seqBytes = Buffer.alloc(12);
    seqBytes.writeBigUInt64BE(BigInt(seq), 4);
    for (let i = 0; i < 12; i++) out[i] = out[i]! ^ seqBytes[i]!;
    return out;
  };
  return { cek, nonce };
}

/** Encodes explicit records under header (salt, rs, keyid). Nothing is checked: callers may build invalid input. */
export function referenceEncrypt(
  ikm: Uint8Array,
  salt: Uint8Array,
  rs: number,
  records: readonly RawRecord[],
  keyid: Uint8Array = new Uint8Array(0),
): Buffer {
  const { cek, nonce } = recordKeys(ikm, salt);
  const header = Buffer.alloc(21 + keyid.length);
  Buffer.from(salt).copy(header, 0);
  header.writeUInt32BE(rs, 16);
  header[20] = keyid.length;
  Buffer.from(keyid).copy(header, 21);
  const sealed = records.map((record, seq) => {
    const cipher = createCipheriv('aes-128-gcm', cek, nonce(seq));
    const plain = Buffer.concat([record.data, Buffer.of(record.delimiter), Buffer.alloc(record.padding ?? 0)]);
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  });
  return Buffer.concat([header, ...sealed]);
}

/** Splits `plain` the way encryptStream does (full records, the last one holding the rest) and encodes it. */
export function referenceEncryptPlain(ikm: Uint8Array, salt: Uint8Array, rs: number, plain: Uint8Array): Buffer {
  const per = rs - 17;
  const records: RawRecord[] = [];
  for (let offset = 0; offset < plain.length || records.length === 0; offset += per) {
    const last = offset + per >= plain.length;
    records.push({ data: plain.subarray(offset, offset + per), delimiter: last ? 2 : 1 });
  }
  return referenceEncrypt(ikm, salt, rs, records);
}

/** Decodes a whole body; throws a plain Error on any problem. */
export function referenceDecrypt(ikm: Uint8Array, body: Uint8Array): Buffer {
  const bytes = Buffer.from(body);
  if (bytes.length < 21) throw new Error('short header');
  const salt = bytes.subarray(0, 16);
  const rs = bytes.readUInt32BE(16);
  const start = 21 + bytes[20]!;
  if (rs < 18) throw new Error('bad rs');
  const { cek, nonce } = recordKeys(ikm, salt);
  const out: Buffer[] = [];
  let seq = 0;
  for (let offset = start; ; offset += rs, seq++) {
    const sealed = bytes.subarray(offset, offset + rs);
    if (sealed.length < 17) throw new Error('truncated');
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce(seq));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = offset + rs >= bytes.length;
    if (plain[end] !== (last ? 2 : 1)) throw new Error('bad delimiter');
    out.push(plain.subarray(0, end));
    if (last) return Buffer.concat(out);
  }
}

/** Opens sealed metadata as docs/e2e-format.md describes it, without the library. */
export function referenceOpenMetadata(ikm: Uint8Array, sealed: string): unknown {
  const bytes = Buffer.from(sealed, 'base64url');
  const key = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.from('one-time e2e metadata v1'), 16));
  const decipher = createDecipheriv('aes-128-gcm', key, bytes.subarray(1, 13));
  decipher.setAAD(bytes.subarray(0, 1));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  const json = Buffer.concat([decipher.update(bytes.subarray(13, bytes.length - 16)), decipher.final()]);
  if (bytes[0] !== 1) throw new Error('bad version');
  return JSON.parse(json.toString('utf8'));
}

/** Seals arbitrary bytes as metadata (any version byte), so tests can feed openMetadata authenticated nonsense. */
export function referenceSealMetadata(ikm: Uint8Array, payload: Uint8Array, version = 1): string {
  const key = Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.from('one-time e2e metadata v1'), 16));
  const iv = Buffer.alloc(12, 7);
  const cipher = createCipheriv('aes-128-gcm', key, iv);
  cipher.setAAD(Buffer.of(version));
  const sealed = Buffer.concat([cipher.update(payload), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([Buffer.of(version), iv, sealed]).toString('base64url');
}
