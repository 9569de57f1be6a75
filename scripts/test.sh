#!/usr/bin/env bash
# `npm test`: installs what is missing (Node 24, dependencies, services), then runs the whole suite once.
set -euo pipefail
# Services that were not running before this run are stopped after it: a test run leaves no process behind.
already_up="$(bash "$(dirname "${BASH_SOURCE[0]}")/services.sh" status 2>/dev/null | awk '$2 == "up" { print $1 }')" || true
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
stop_started_services() {
  local svc started=()
  for svc in redis ferretdb azurite; do grep -qx "$svc" <<<"$already_up" || started+=("$svc"); done
  ((${#started[@]} == 0)) || bash scripts/services.sh down "${started[@]}"
}
trap stop_started_services EXIT
bash scripts/chromium.sh
# The API serves the web page from apps/web/dist; build it from the sources being tested.
npm run build --silent >/dev/null
mkdir -p .data
report=.data/vitest-report.json
rm -f "$report"
status=0
node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line, whatever reads the output.
if [[ -f "$report" ]]; then
  node -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$report"
fi
exit "$status"
