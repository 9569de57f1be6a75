const UNIT_BYTES = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
} as const;
const SIZE = /^(\d{1,15})\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/;

/** Parses `2GiB`, `512m`, `1048576` (bytes) and the like; binary units. `undefined` when not a size. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const unit = (match[2] ?? 'b') as keyof typeof UNIT_BYTES;
  return Number(match[1]) * UNIT_BYTES[unit];
}
