const MAX_NAME_LENGTH = 255;
// Control characters, bidi overrides/isolates and the characters most file systems refuse.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>:"|?*\\/]/gu;

/**
 * Makes a client-supplied file name safe to hand back in Content-Disposition and to save on any OS: keeps
 * only the last path segment, drops control and bidi characters, trims dots and spaces, caps the length.
 */
export function sanitizeFileName(raw: string | undefined, fallback = 'file'): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment
    .normalize('NFC')
    .replace(UNSAFE, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '');
  if (cleaned === '' || /^_+$/.test(cleaned)) return fallback;
  return truncateByCodePoints(cleaned, MAX_NAME_LENGTH);
}

function truncateByCodePoints(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  const dot = text.lastIndexOf('.');
  const extension = dot > 0 && text.length - dot <= 16 ? text.slice(dot) : '';
  return points.slice(0, max - Array.from(extension).length).join('') + extension;
}

/** RFC 6266 header with an ASCII fallback and the exact UTF-8 name per RFC 5987. */
export function contentDisposition(fileName: string, type: 'attachment' | 'inline' = 'attachment'): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
