#!/usr/bin/env bash
# `npm run bench [-- --quick | --sizes 100,1024]`: installs what is missing (Node 24, dependencies, services),
# then measures upload/download throughput and the API's memory against Azurite. See bench/upload-bench.ts.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/node-env.sh"
bash "$REPO/scripts/deps.sh"
bash "$REPO/scripts/services.sh" up
cd "$REPO"
exec node bench/upload-bench.ts "$@"
