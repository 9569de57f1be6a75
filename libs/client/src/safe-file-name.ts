/** Used when nothing usable is left of the server's name. */
export const FALLBACK_FILE_NAME = 'download';
/** Below the 255-byte limit of common file systems, leaving room for ` (12)` and `.part`. */
const MAX_BYTES = 200;
/** An extension longer than this is treated as part of the name when shortening. */
const MAX_EXTENSION_BYTES = 20;
// Control characters (C0, DEL, C1), bidi marks/overrides/isolates (they disguise an extension, `txt.exe`
// shown as `exe.txt`), lone surrogates (not encodable as a file name) and the characters Windows refuses
// (`:` would even write to an NTFS alternate data stream).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>:"|?*]|\p{Cs}/gu;
// Windows opens a device for these whatever the extension (`con.txt`, `nul.tar.gz`).
const RESERVED = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/**
 * Reduces a name chosen by someone else (the server's `Content-Disposition`) to a base name that is safe to
 * create in a folder: it cannot leave the folder, hide itself, name a device, or exceed file-system limits.
 */
export function safeFileName(name: string, fallback: string = FALLBACK_FILE_NAME): string {
  // Only the last path segment counts (RFC 6266 §4.3): no directories, so no `..` walking out of the folder.
  const base = name.split(/[/\\]/).pop() ?? '';
  let cleaned = base
    .replace(UNSAFE, '_')
    // Leading dots would hide the file (or make `..`); trailing dots and spaces are dropped by Windows.
    .replace(/^[.\s]+|[.\s]+$/g, '');
  if (RESERVED.test(cleaned.split('.')[0]?.trimEnd() ?? '')) cleaned = `_${cleaned}`;
  cleaned = shorten(cleaned).replace(/[.\s]+$/, '');
  return cleaned === '' ? fallback : cleaned;
}

/** At most MAX_BYTES of UTF-8, cut between code points, keeping a short extension. */
function shorten(name: string): string {
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  if (bytes(name) <= MAX_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && bytes(name.slice(dot)) <= MAX_EXTENSION_BYTES ? name.slice(dot) : '';
  let budget = MAX_BYTES - bytes(extension);
  let stem = '';
  for (const point of name.slice(0, name.length - extension.length)) {
    budget -= bytes(point);
    if (budget < 0) break;
    stem += point;
  }
  return stem + extension;
}
