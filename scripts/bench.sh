#!/usr/bin/env bash
# `npm run bench [-- --quick | --sizes 100,1024]`: installs what is missing (Node 24, dependencies, services),
# then measures upload/download throughput and the API's memory against Azurite. See bench/upload-bench.ts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec node bench/upload-bench.ts "$@"
