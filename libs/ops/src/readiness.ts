/** A dependency answers within this, or counts as down: probes must answer faster than their own timeouts. */
export const CHECK_TIMEOUT_MS = 2_000;

export type CheckState = 'up' | 'down';

export interface Readiness {
  readonly ready: boolean;
  /** Dependencies that did not answer, by name (`metadata`, `blobs`, `queue`). */
  readonly down: readonly string[];
  readonly checks: Readonly<Record<string, CheckState>>;
}

/** Runs every check at once, each bounded by `timeoutMs`. */
export async function checkReadiness(
  checks: Readonly<Record<string, () => Promise<void>>>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<Readiness> {
  const names = Object.keys(checks);
  const states = await Promise.all(names.map((name) => answers(checks[name]!, timeoutMs)));
  const entries = names.map((name, index) => [name, states[index]!] as const);
  const down = entries.filter(([, state]) => state === 'down').map(([name]) => name);
  return { ready: down.length === 0, down, checks: Object.fromEntries(entries) };
}

async function answers(check: () => Promise<void>, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckState>((resolve) => {
    timer = setTimeout(() => resolve('down'), timeoutMs);
  });
  // A check that outlives its timeout still settles later; its outcome is simply ignored then.
  const attempt = check().then(
    (): CheckState => 'up',
    (): CheckState => 'down',
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
