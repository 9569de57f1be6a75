/**
 * Sealed metadata: the file's name, type and plaintext size, readable only with the link's key, stored by the
 * server as an opaque string.
 *
 *   sealed = base64url( version (1) ‖ iv (12) ‖ AES-128-GCM(json) incl. 16-byte tag )
 *   metadata key = HKDF-SHA-256(salt = empty, IKM = file key, info = "one-time e2e metadata v1", 16 bytes)
 *   additional data = the version byte
 *
 * A distinct HKDF info separates this key from the content keys (which RFC 8188 derives with a random salt and
 * its own info strings), so one file key safely serves both. The IV is random: the metadata key is fixed per
 * file key, but sealing happens once per file, so 96 random bits make a repeat negligible.
 */
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { E2EFormatError, E2EKeyError } from './errors.ts';
import { checkedKey } from './key.ts';

export interface E2EMetadata {
  readonly name: string;
  readonly type: string;
  /** Plaintext bytes. */
  readonly size: number;
}

export const METADATA_VERSION = 1;
const METADATA_INFO = new TextEncoder().encode('one-time e2e metadata v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * The JSON payload's cap in UTF-8 bytes: it keeps every sealed string below MAX_SEALED_METADATA_LENGTH
 * (base64url of 1 + 12 + 1500 + 16 bytes is 2039 characters). What fits: any name of up to 255 UTF-8 bytes
 * with any valid type (at worst 28 + 2×255 + 2×255 + 16 = 1064 bytes, every character escaped), and any name
 * of up to 255 code points without quotes or backslashes (what @one-time/core's sanitizeFileName produces)
 * with an ordinary type (28 + 4×255 + 255 + 16 = 1319 bytes).
 */
const MAX_JSON_BYTES = 1500;
export const MAX_SEALED_METADATA_LENGTH = 2048;
const MAX_TYPE_LENGTH = 255;
/** C0 controls and DEL: never part of a file name we show or save, and the only characters JSON escapes at 6× size. */
const CONTROL = /[\u0000-\u001f\u007f]/u;
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/u;

export function sealMetadata(key: Uint8Array, meta: E2EMetadata): Promise<string> {
  return sealMetadataWithIv(key, meta, crypto.getRandomValues(new Uint8Array(IV_BYTES)));
}

/**
 * Testing only (test vectors need a fixed IV; production code must call sealMetadata). Deliberately not
 * exported from the package index.
 */
export async function sealMetadataWithIv(key: Uint8Array, meta: E2EMetadata, iv: Uint8Array): Promise<string> {
  const metadataKey = await deriveMetadataKey(checkedKey(key));
  const problem = shapeProblem(meta);
  if (problem) throw new RangeError(`cannot seal metadata: ${problem}`);
  if (iv.length !== IV_BYTES) throw new RangeError(`the IV is ${IV_BYTES} bytes`);
  const json = new TextEncoder().encode(JSON.stringify({ name: meta.name, type: meta.type, size: meta.size }));
  if (json.length > MAX_JSON_BYTES) throw new RangeError(`cannot seal metadata: more than ${MAX_JSON_BYTES} bytes of JSON`);
  const version = Uint8Array.of(METADATA_VERSION);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: new Uint8Array(iv), additionalData: version, tagLength: TAG_BYTES * 8 },
    metadataKey,
    json,
  );
  const out = new Uint8Array(1 + IV_BYTES + sealed.byteLength);
  out.set(version, 0);
  out.set(iv, 1);
  out.set(new Uint8Array(sealed), 1 + IV_BYTES);
  return encodeBase64url(out);
}

export async function openMetadata(key: Uint8Array, sealed: string): Promise<E2EMetadata> {
  const metadataKey = await deriveMetadataKey(checkedKey(key));
  if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_METADATA_LENGTH) {
    throw new E2EFormatError('sealed metadata is not a string of at most 2048 characters');
  }
  const bytes = decodeBase64url(sealed);
  if (!bytes) throw new E2EFormatError('sealed metadata is not base64url');
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES) throw new E2EFormatError('sealed metadata is too short');
  if (bytes[0] !== METADATA_VERSION) throw new E2EFormatError(`sealed metadata has unknown version ${bytes[0]}`);
  let json: Uint8Array;
  try {
    json = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.subarray(1, 1 + IV_BYTES), additionalData: bytes.subarray(0, 1), tagLength: TAG_BYTES * 8 },
        metadataKey,
        bytes.subarray(1 + IV_BYTES),
      ),
    );
  } catch {
    throw new E2EKeyError('wrong', 'the key does not open this metadata (wrong key, or altered)');
  }
  return parseMetadata(json);
}

async function deriveMetadataKey(ikm: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: METADATA_INFO },
    base,
    { name: 'AES-GCM', length: 128 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * Authenticated bytes still come from whoever holds the key (the sender may be hostile to the recipient), so
 * the payload is checked as strictly as it is produced: exactly these three members, nothing else.
 */
function parseMetadata(json: Uint8Array): E2EMetadata {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw new E2EFormatError('sealed metadata is not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new E2EFormatError('sealed metadata is not a JSON object');
  }
  const keys = Object.keys(value).sort().join(',');
  if (keys !== 'name,size,type') throw new E2EFormatError('sealed metadata must have exactly name, type and size');
  const meta = value as Record<'name' | 'type' | 'size', unknown>;
  const problem = shapeProblem(meta);
  if (problem) throw new E2EFormatError(`sealed metadata: ${problem}`);
  return { name: meta.name as string, type: meta.type as string, size: meta.size as number };
}

/** Why `meta` is not sealable metadata, or undefined. Shared by sealing and opening so both accept the same set. */
function shapeProblem(meta: Record<'name' | 'type' | 'size', unknown>): string | undefined {
  const { name, type, size } = meta;
  if (typeof name !== 'string' || name === '') return 'name must be a non-empty string';
  if (!name.isWellFormed()) return 'name must be well-formed Unicode';
  if (CONTROL.test(name)) return 'name must not contain control characters';
  if (typeof type !== 'string' || type.length > MAX_TYPE_LENGTH || !PRINTABLE_ASCII.test(type)) {
    return `type must be printable ASCII of at most ${MAX_TYPE_LENGTH} characters`;
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return 'size must be a non-negative integer';
  return undefined;
}
