#!/usr/bin/env bash
# `npm test`: installs what is missing (Node 24, dependencies, services), then runs the whole suite once.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/node-env.sh"
bash "$REPO/scripts/deps.sh"
bash "$REPO/scripts/services.sh" up
cd "$REPO"
exec node node_modules/vitest/vitest.mjs run "$@"
