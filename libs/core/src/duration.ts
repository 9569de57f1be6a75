const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d{1,9})\s*(s|m|h|d|w)?$/;

/**
 * Parses a human duration such as `90s`, `10m`, `24h`, `7d` or `1w`; a bare number means seconds.
 * Returns milliseconds, or `undefined` when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  return amount * UNIT_MS[unit];
}

/**
 * What a client may send as `ttl`: a whole number with its unit, `s`, `m`, `h` or `d` (`90s`, `10m`, `24h`,
 * `7d`). A bare number is refused: seconds or hours would be a guess.
 */
const TTL = /^(\d{1,9})(s|m|h|d)$/;

export function parseTtlText(text: string): number | undefined {
  const match = TTL.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** Formats milliseconds as the largest whole unit of the `ttl` grammar, for messages (`604800000` → `7d`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms % UNIT_MS[unit] === 0 && ms >= UNIT_MS[unit]) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
