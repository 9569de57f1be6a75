#!/usr/bin/env bash
# Installs the workspace's npm dependencies (npm ci) when they are missing or
# out of date with package-lock.json. Quiet and fast when already up to date.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/node-env.sh
source "$REPO/scripts/node-env.sh"

cd "$REPO"
marker="node_modules/.package-lock.json"

[[ -f package-lock.json ]] || {
  echo "deps.sh: $REPO/package-lock.json is missing (npm ci needs it)" >&2
  exit 1
}

if [[ -d node_modules && -f "$marker" && ! package-lock.json -nt "$marker" ]]; then
  exit 0
fi

log="$(mktemp "${TMPDIR:-/tmp}/one-time-npm-ci.XXXXXX")"
trap 'rm -f "$log"' EXIT
if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
  echo "deps.sh: 'npm ci' failed (node $(node --version), npm $(npm --version 2>/dev/null || echo '?')):" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
touch "$marker"
