/**
 * The `Range` header of a download (RFC 9110 §14): one byte range is served as 206; anything else this server
 * does not serve as ranges (several ranges, another unit, bad syntax) is ignored, and the whole file is sent.
 */
export type RangeAsked = { readonly kind: 'whole' } | { readonly kind: 'range'; readonly spec: RangeSpec };

type RangeSpec = { readonly first: number; readonly last: number | undefined } | { readonly suffix: number };

export type RangeServed =
  | { readonly kind: 'whole' }
  | { readonly kind: 'part'; readonly from: number; readonly to: number }
  | { readonly kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(?:(\d+)-(\d*)|-(\d+))$/;

export function parseRange(header: string | undefined): RangeAsked {
  const match = header === undefined ? null : SINGLE_RANGE.exec(header.trim());
  if (!match) return { kind: 'whole' };
  const [, first, last, suffix] = match;
  if (suffix !== undefined) return { kind: 'range', spec: { suffix: Number(suffix) } };
  const spec = { first: Number(first), last: last === '' || last === undefined ? undefined : Number(last) };
  if (spec.last !== undefined && spec.last < spec.first) return { kind: 'whole' }; // invalid: ignored
  if (!Number.isSafeInteger(spec.first) || (spec.last !== undefined && !Number.isSafeInteger(spec.last)))
    return { kind: 'whole' };
  return { kind: 'range', spec };
}

/** The bytes to send of a representation of `size` bytes. */
export function servedRange(asked: RangeAsked, size: number): RangeServed {
  if (asked.kind === 'whole') return asked;
  const { spec } = asked;
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', from: Math.max(0, size - spec.suffix), to: size - 1 };
  }
  if (spec.first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', from: spec.first, to: Math.min(spec.last ?? size - 1, size - 1) };
}

/** `If-Range` with anything but this representation's strong ETag (a date, a weak tag, another tag) voids the range. */
export function rangeStillValid(ifRange: string | undefined, etag: string | undefined): boolean {
  return ifRange === undefined || (etag !== undefined && ifRange.trim() === quoted(etag));
}

export function quoted(etag: string): string {
  return `"${etag}"`;
}
