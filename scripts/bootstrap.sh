# shellcheck shell=bash
# Sourced by start.sh, test.sh and bench.sh: Node 24 on PATH, dependencies installed, services up, cwd = repo.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/node-env.sh"
bash "$REPO/scripts/deps.sh"
bash "$REPO/scripts/services.sh" up
cd "$REPO"
