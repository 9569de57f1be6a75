const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;

/** 1536 → "1.5 KB" (binary multiples, named as people read them). */
export function formatBytes(bytes: number): string {
  if (bytes === 1) return '1 byte';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits)).toLocaleString('en')} ${UNITS[unit]}`;
}

const DURATIONS: ReadonlyArray<readonly [seconds: number, singular: string]> = [
  [7 * 86_400, 'week'],
  [86_400, 'day'],
  [3_600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** 90_000 → "1 day", 5400 → "90 minutes": the largest unit that divides it exactly. */
export function formatDuration(seconds: number): string {
  for (const [size, name] of DURATIONS) {
    if (seconds >= size && seconds % size === 0) {
      const count = seconds / size;
      return `${count} ${name}${count === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}

/** "in 3 hours (28 Nov 2026, 21:05)": relative first, rounded to the unit people would say, then the local time. */
export function formatExpiry(expiresAt: Date, now: Date = new Date()): string {
  const absolute = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(expiresAt);
  return `${relativeTime(Math.round((expiresAt.getTime() - now.getTime()) / 1000))} (${absolute})`;
}

function relativeTime(seconds: number): string {
  const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const minutes = Math.round(seconds / 60);
  const hours = Math.round(seconds / 3600);
  if (Math.abs(seconds) < 60) return relative.format(seconds, 'second');
  if (Math.abs(minutes) < 60) return relative.format(minutes, 'minute');
  if (Math.abs(hours) < 48) return relative.format(hours, 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

const PRESETS = [300, 3_600, 6 * 3_600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400];

/** The expiry choices a server allows: common presets up to its maximum, plus its default and maximum. */
export function ttlChoices(defaultSeconds: number, maxSeconds: number): number[] {
  const choices = new Set(PRESETS.filter((seconds) => seconds <= maxSeconds));
  choices.add(Math.min(defaultSeconds, maxSeconds));
  choices.add(maxSeconds);
  return [...choices].sort((a, b) => a - b);
}

/** `ttl` as the server reads it: whole seconds. */
export function ttlParameter(seconds: number): string {
  return `${seconds}s`;
}
