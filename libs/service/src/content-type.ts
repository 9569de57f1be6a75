import type * as FileTypeModuleNamespace from 'file-type';
import { AppError } from '@one-time/core';

type FileTypeModule = typeof FileTypeModuleNamespace;
type FileTypeParserClass = FileTypeModule['FileTypeParser'];

/** The options file-type passes to its signature checks. */
interface CheckOptions {
  readonly offset?: number;
  readonly mask?: readonly number[];
  readonly encoding?: string;
}

/**
 * file-type's parser, with its two signature checks done without allocating. The library turns each of its
 * several hundred signature strings into a fresh array on every check, spreads an options object and iterates
 * with `entries()`: 11 % of everything the API allocated on 1 KiB round trips (sampled), all of it work for the
 * young-generation collector. The signatures are the library's own constants, so their bytes are kept; the
 * comparison is the same as the library's (`check` in file-type's parser.js: bytes at `offset`, under `mask`).
 * Overrides of methods file-type does not document: a test compares the result with
 * `fileTypeFromBuffer` on every signature it checks (`libs/service/test/content-type.test.ts`), so an upgrade
 * that changes them shows there.
 */
function withSignatureCache(module: FileTypeModule): FileTypeParserClass {
  const signatures = new Map<string, number[]>();
  const bytesOf = (text: string, encoding: string | undefined): number[] => {
    const key = `${encoding ?? ''}\0${text}`;
    let bytes = signatures.get(key);
    if (!bytes) {
      bytes = signatureBytes(text, encoding);
      signatures.set(key, bytes);
    }
    return bytes;
  };
  return class SignatureCachingParser extends module.FileTypeParser {
    check(signature: readonly number[], options?: CheckOptions): boolean {
      const buffer = (this as unknown as { buffer: Uint8Array }).buffer;
      const offset = options?.offset ?? 0;
      const mask = options?.mask;
      for (let i = 0; i < signature.length; i += 1) {
        const byte = buffer[i + offset]!;
        if (signature[i] !== (mask ? mask[i]! & byte : byte)) return false;
      }
      return true;
    }

    checkString(text: string, options?: CheckOptions): boolean {
      return this.check(bytesOf(text, options?.encoding), options);
    }
  };
}

/** A signature string's bytes as file-type's `stringToBytes` makes them: a byte per character, or UTF-16 units. */
function signatureBytes(text: string, encoding: string | undefined): number[] {
  if (encoding !== 'utf-16le' && encoding !== 'utf-16be') return [...text].map((character) => character.charCodeAt(0));
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const [low, high] = [text.charCodeAt(i) & 0xff, (text.charCodeAt(i) >> 8) & 0xff];
    bytes.push(...(encoding === 'utf-16le' ? [low, high] : [high, low]));
  }
  return bytes;
}

/** Loaded with the first upload: an idle process does not carry the magic-number tables. */
let fileType: Promise<FileTypeParserClass> | undefined;

/** Enough of the start of a file for magic-byte detection. */
export const SNIFF_BYTES = 4100;

/**
 * The content type from the file's first bytes (file-type's magic numbers), never from the client. Text that
 * is valid UTF-8 without NULs is `text/plain`; anything else unknown is `application/octet-stream`.
 */
export async function sniffContentType(head: Buffer): Promise<string> {
  const Parser = await (fileType ??= import('file-type').then(withSignatureCache));
  // A parser per call: it keeps the buffer it is looking at as its own state.
  const detected = await new Parser().fromBuffer(head);
  if (detected) return detected.mime;
  if (head.length > 0 && looksLikeText(head)) return markupType(head) ?? 'text/plain';
  return 'application/octet-stream';
}

/** Text that a browser could treat as a document gets a type that is always served as an attachment. */
function markupType(head: Buffer): string | undefined {
  const start = head
    .toString('utf8', 0, 512)
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (!start.startsWith('<')) return undefined;
  if (start.includes('<svg')) return 'image/svg+xml';
  if (start.startsWith('<?xml')) return 'application/xml';
  return 'text/html';
}

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // A multi-byte character may be cut at the end of the sample; ignore up to 3 trailing bytes.
  for (let cut = 0; cut <= Math.min(3, head.length - 1); cut += 1) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      // try a shorter sample
    }
  }
  return false;
}

/** Types shown in the browser; everything else (HTML, SVG, XML, scripts, unknown) is an attachment. */
const INLINE = [/^image\/(png|jpeg|gif|webp|avif|bmp|apng)$/, /^audio\//, /^video\//, /^text\/plain$/];

export function isInlineSafe(contentType: string): boolean {
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  return INLINE.some((pattern) => pattern.test(essence));
}

/** Applies the configured allow-list and deny-list (patterns such as `image/*`). Empty allow-list: all. */
export function assertTypeAllowed(contentType: string, allowed: readonly string[], denied: readonly string[]): void {
  const matches = (pattern: string) =>
    pattern.endsWith('/*') ? contentType.startsWith(pattern.slice(0, -1)) : contentType === pattern;
  if (denied.some(matches) || (allowed.length > 0 && !allowed.some(matches))) {
    throw new AppError('UNSUPPORTED_TYPE', `Files of type ${contentType} are not accepted here.`);
  }
}
