#!/usr/bin/env bash
# `npm test`: installs what is missing (Node 24, dependencies, services), then runs the whole suite once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
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
