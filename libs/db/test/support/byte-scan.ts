import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Needle {
  /** Which value, in which form, for the failure message. */
  readonly label: string;
  readonly bytes: Buffer;
}

/** Shorter needles could turn up by chance in unrelated bytes. */
const MIN_NEEDLE_BYTES = 8;

/**
 * Every form a stored value could take on disk: its text, the hex and base64 of that text, and (for values
 * that are themselves hex or base64) the raw bytes they encode, in case something stored them decoded.
 */
export function needlesFor(values: Readonly<Record<string, string>>): Needle[] {
  const needles: Needle[] = [];
  for (const [name, value] of Object.entries(values)) {
    const text = Buffer.from(value, 'utf8');
    needles.push({ label: `${name} (text)`, bytes: text });
    needles.push({ label: `${name} (hex)`, bytes: Buffer.from(text.toString('hex')) });
    needles.push({ label: `${name} (base64)`, bytes: Buffer.from(text.toString('base64')) });
    needles.push({ label: `${name} (base64url)`, bytes: Buffer.from(text.toString('base64url')) });
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      const decoded = Buffer.from(value, encoding);
      if (decoded.toString(encoding) === value) needles.push({ label: `${name} (decoded ${encoding})`, bytes: decoded });
    }
  }
  return needles.filter((needle) => needle.bytes.length >= MIN_NEEDLE_BYTES);
}

/** `<file>: <needle>` for every needle found in the raw bytes of any file in the folder. */
export function findTraces(folder: string, needles: readonly Needle[]): string[] {
  const traces: string[] = [];
  for (const name of readdirSync(folder)) {
    const bytes = readFileSync(join(folder, name));
    for (const needle of needles) if (bytes.includes(needle.bytes)) traces.push(`${name}: ${needle.label}`);
  }
  return traces;
}
