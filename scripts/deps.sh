#!/usr/bin/env bash
# Installs the workspace's npm dependencies (npm ci) when node_modules is
# missing or older than package-lock.json. Quiet and fast when up to date.
#
# Fallback: if `npm ci` refuses because package.json and package-lock.json are
# "not in sync", `npm install` is tried instead, and accepted only if it leaves
# package-lock.json unchanged, or changed only by added optional packages. (The
# registry can start serving an optional dependency for another platform, e.g.
# vite's Windows-only napi-windows-process-start-time, after the lock file was
# written; npm ci then calls the lock file out of sync although nothing that
# installs here is missing.)
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

log="$(mktemp "${TMPDIR:-/tmp}/one-time-npm.XXXXXX")"
lock_backup="$log.package-lock.json"
keep_log=0
cleanup() {
  rm -f "$lock_backup"
  ((keep_log)) || rm -f "$log"
}
trap cleanup EXIT

fail() { # message
  keep_log=1
  {
    echo "deps.sh: $1 (node $(node --version), npm $(npm --version 2>/dev/null || echo '?'))"
    # npm prints the reason first and a long usage text after it
    grep -E '^npm (error|ERR!)' "$log" | grep -vE '^npm error *$' | head -n 15
    echo "deps.sh: full output: $log"
  } >&2
  exit 1
}

if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
  if ! grep -q "can only install packages when your package.json and package-lock.json" "$log"; then
    fail "'npm ci' failed"
  fi
  missing="$(grep -m 3 -E '^npm error (Missing|Invalid):' "$log" | sed 's/^npm error //' | paste -sd ';' -)"
  echo "deps.sh: npm ci says the lock file is out of sync (${missing:-?}); trying npm install" >&2
  cp package-lock.json "$lock_backup"
  if ! npm install --no-audit --no-fund >"$log" 2>&1; then
    cp "$lock_backup" package-lock.json
    fail "'npm install' (fallback after npm ci) failed"
  fi
  if ! cmp -s package-lock.json "$lock_backup"; then
    if node scripts/lock-only-adds-optional.ts "$lock_backup" package-lock.json; then
      # The registry now serves an optional package (for another OS or CPU) the lock file did not list. It is
      # never installed here, so the install is complete; keep the completed lock file and say so.
      echo "deps.sh: the registry serves optional packages the lock file lacked; package-lock.json now lists" \
        "them (commit it)" >&2
    else
      cp "$lock_backup" package-lock.json
      keep_log=1
      echo "deps.sh: package-lock.json really is out of date with package.json (npm install would change it;" \
        "left unchanged). Run 'npm install' and commit package-lock.json." >&2
      exit 1
    fi
  fi
fi
touch "$marker"
