// Exit 0 when the second package-lock.json differs from the first only by added packages marked optional
// (platform binaries the registry began to serve), 1 otherwise. Used by deps.sh; prints nothing on success.
import { readFileSync } from 'node:fs';

type LockEntry = Record<string, unknown> & { optional?: boolean };

function packagesOf(path: string): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(path, 'utf8')) as { packages?: Record<string, LockEntry> };
  return lock.packages ?? {};
}

/** The root and workspace entries may list a new optional dependency; nothing else of theirs may change. */
function withoutOptionalDependencies(entry: LockEntry): string {
  const { optionalDependencies: _ignored, ...rest } = entry;
  return JSON.stringify(rest);
}

const [beforePath = '', afterPath = ''] = process.argv.slice(2);
const before = packagesOf(beforePath);
const after = packagesOf(afterPath);
const problems: string[] = [];
for (const [name, entry] of Object.entries(after)) {
  const old = before[name];
  if (old === undefined) {
    if (entry.optional !== true) problems.push(`added non-optional ${name}`);
  } else if (withoutOptionalDependencies(old) !== withoutOptionalDependencies(entry)) {
    problems.push(`changed ${name}`);
  }
}
for (const name of Object.keys(before)) if (!(name in after)) problems.push(`removed ${name}`);
if (problems.length > 0) {
  console.error(`the lock file change is more than added optional packages: ${problems.slice(0, 5).join('; ')}`);
  process.exit(1);
}
