#!/usr/bin/env bash
# `npm run bench [-- --quick | --sizes 100,1024]`: installs what is missing (Node 24, dependencies, services),
# then runs every benchmark section against the real services. See bench/run.ts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
npm run build --silent >/dev/null # the web page, served by the API
node scripts/build-server.ts      # the bundles npm start runs
exec node bench/run.ts "$@"
