# shellcheck shell=bash
# Sourced by start.sh, test.sh and bench.sh: Node 24 on PATH, dependencies installed, services up, cwd = repo.
# ONE_TIME_SERVICES (set by the sourcing script) names the local services to start; default: all of them.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/node-env.sh"
bash "$REPO/scripts/deps.sh"
# shellcheck disable=SC2086 # a list of names
bash "$REPO/scripts/services.sh" up ${ONE_TIME_SERVICES:-}
cd "$REPO"
