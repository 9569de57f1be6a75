import type * as FileTypeModuleNamespace from 'file-type';
import { AppError } from '@one-time/core';

type FileTypeModule = typeof FileTypeModuleNamespace;

/** Loaded with the first upload: an idle process does not carry the magic-number tables. */
let fileType: Promise<FileTypeModule> | undefined;

/** Enough of the start of a file for magic-byte detection. */
export const SNIFF_BYTES = 4100;

/**
 * The content type from the file's first bytes (file-type's magic numbers), never from the client. Text that
 * is valid UTF-8 without NULs is `text/plain`; anything else unknown is `application/octet-stream`.
 */
export async function sniffContentType(head: Buffer): Promise<string> {
  const { fileTypeFromBuffer } = await (fileType ??= import('file-type'));
  const detected = await fileTypeFromBuffer(head);
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
