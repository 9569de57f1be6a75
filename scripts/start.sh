#!/usr/bin/env bash
# `npm start`: installs what is missing (Node 24, dependencies, services), then runs the API and the worker
# in the foreground. Ctrl-C stops both.
set -euo pipefail
# The embedded default (SQLite + a data folder) needs only Redis, for the queue. The scale-out stores' local
# stand-ins start only when the configuration asks for them.
ONE_TIME_SERVICES=redis
[[ "${METADATA_STORE:-sqlite}" == mongodb && -z "${MONGO_URL:-}" ]] && ONE_TIME_SERVICES+=" ferretdb"
[[ "${BLOB_STORE:-filesystem}" == azure && -z "${AZURE_STORAGE_CONNECTION_STRING:-}" ]] && ONE_TIME_SERVICES+=" azurite"
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop INT TERM EXIT

npm run build --silent >/dev/null # the web page, served by the API
node scripts/build-server.ts      # the API and the worker as plain JavaScript bundles (README, Speed and memory)

mapfile -t server_env < <(node scripts/server-command.ts env)
for app in worker api; do
  mapfile -t args < <(node scripts/server-command.ts "$app")
  env "${server_env[@]}" node "${args[@]}" &
  pids+=($!)
done

# If either process exits, stop the other and report its status.
set +e
wait -n "${pids[@]}"
status=$?
exit "$status"
