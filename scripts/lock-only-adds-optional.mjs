// Exit 0 when the second package-lock.json differs from the first only by added packages marked optional
// (platform binaries the registry began to serve), 1 otherwise. Used by deps.sh; prints nothing on success.
import { readFileSync } from 'node:fs';

const [before, after] = process.argv.slice(2).map((path) => JSON.parse(readFileSync(path, 'utf8')).packages ?? {});
const problems = [];
for (const [name, entry] of Object.entries(after)) {
  const old = before[name];
  if (old === undefined) {
    if (entry.optional !== true) problems.push(`added non-optional ${name}`);
  } else if (JSON.stringify(old) !== JSON.stringify(entry)) {
    // The root and workspace entries may list a new optional dependency; nothing else may change.
    const { optionalDependencies: _a, ...oldRest } = old;
    const { optionalDependencies: _b, ...newRest } = entry;
    if (JSON.stringify(oldRest) !== JSON.stringify(newRest)) problems.push(`changed ${name}`);
  }
}
for (const name of Object.keys(before)) if (!(name in after)) problems.push(`removed ${name}`);
if (problems.length > 0) {
  console.error(`deps.sh: the lock file change is more than added optional packages: ${problems.slice(0, 5).join('; ')}`);
  process.exit(1);
}
