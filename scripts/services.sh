#!/usr/bin/env bash
# Local backing services for one-time: Redis, FerretDB (MongoDB wire protocol,
# SQLite backend) and Azurite (Azure Blob emulator).
#
#   scripts/services.sh up [SERVICE...]  start whatever is not already listening (idempotent); all three, or
#                                        only those named (redis, ferretdb, azurite)
#   scripts/services.sh down [SERVICE...]  stop only the services this script started (pid files); all, or those named
#   scripts/services.sh status  one line per service; exit 0 if all are up, else 1
#
# State (pid files, logs, data) lives in ${ONE_TIME_DATA:-<repo>/.data}.
# Ports: ONE_TIME_REDIS_PORT (6379), ONE_TIME_FERRETDB_PORT (27017),
# ONE_TIME_FERRETDB_DEBUG_PORT (8088), ONE_TIME_AZURITE_PORT (10000).
# Tools are cached in ${ONE_TIME_CACHE:-$HOME/.cache/one-time}.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${ONE_TIME_CACHE:-$HOME/.cache/one-time}"
DATA="${ONE_TIME_DATA:-$REPO/.data}"
RUN_DIR="$DATA/run"
LOG_DIR="$DATA/logs"

HOST=127.0.0.1
# ports can be overridden (e.g. to run a second, isolated set of services)
REDIS_PORT="${ONE_TIME_REDIS_PORT:-6379}"
FERRETDB_PORT="${ONE_TIME_FERRETDB_PORT:-27017}"
FERRETDB_DEBUG_ADDR="$HOST:${ONE_TIME_FERRETDB_DEBUG_PORT:-8088}"
AZURITE_PORT="${ONE_TIME_AZURITE_PORT:-10000}"

FERRETDB_VERSION=v1.24.2
FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_BIN="$CACHE/bin/ferretdb"

SERVICES=(redis ferretdb azurite)

say() { echo "services.sh: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# ---------------------------------------------------------------- helpers ---

port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$LOG_DIR/$1.log"; }

# pattern that must appear in /proc/<pid>/cmdline for a pid file to be trusted
proc_pattern() {
  case "$1" in
    redis) echo "redis-server" ;;
    ferretdb) echo "ferretdb" ;;
    azurite) echo "azurite-blob" ;;
  esac
}

# prints the pid of the managed (started by us) process of a service, if alive
managed_pid() { # service
  local f pid cmd
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [[ "$cmd" == *"$(proc_pattern "$1")"* ]]; then
      echo "$pid"
      return 0
    fi
  fi
  rm -f "$f" # stale
  return 1
}

show_log() { # service
  local l
  l="$(log_file "$1")"
  if [[ -s "$l" ]]; then
    echo "--- last lines of $l ---" >&2
    tail -n 25 "$l" >&2
    echo "---" >&2
  fi
}

# wait until host:port accepts connections; fail early if pid dies
wait_port() { # service port timeout_s [pid]
  local svc="$1" port="$2" timeout="$3" pid="${4:-}" i
  for ((i = 0; i < timeout * 10; i++)); do
    port_open "$HOST" "$port" && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      show_log "$svc"
      die "$svc exited during startup (it never listened on $HOST:$port)"
    fi
    sleep 0.1
  done
  show_log "$svc"
  die "$svc did not listen on $HOST:$port within ${timeout}s"
}

# bash snippet: close every inherited fd above 2 (lock fd, pipes of whoever
# called us, ...) so a daemon never keeps a caller's pipe open, then exec "$@"
# shellcheck disable=SC2016
CLEAN_EXEC='for f in /proc/$$/fd/*; do f=${f##*/}; ((f > 2)) && eval "exec $f>&-"; done; exec "$@"'

# run a command detached in its own session; prints its pid
spawn() { # service cwd cmd...
  local svc="$1" cwd="$2"
  shift 2
  local pf lf i
  pf="$(pid_file "$svc")"
  lf="$(log_file "$svc")"
  rm -f "$pf"
  : >"$lf"
  (
    cd "$cwd" || exit 1
    # the wrapper writes its own pid, then execs the service (same pid)
    # shellcheck disable=SC2016
    exec setsid bash -c 'echo $$ >"$0"; c="$1"; shift; eval "$c"' "$pf" "$CLEAN_EXEC" "$@"
  ) </dev/null >>"$lf" 2>&1 &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pf" ]] && break
    sleep 0.02
  done
  [[ -s "$pf" ]] || die "could not start $svc (no pid file $pf)"
  tr -dc '0-9' <"$pf"
}

# SIGTERM all given pids at once (graceful stops take 1-2 s each), wait up to
# 10 s, then SIGKILL leftovers
stop_pids() { # "svc:pid"...
  local e i alive
  for e in "$@"; do kill -TERM "${e#*:}" 2>/dev/null || true; done
  for ((i = 0; i < 120; i++)); do
    alive=()
    for e in "$@"; do kill -0 "${e#*:}" 2>/dev/null && alive+=("$e"); done
    ((${#alive[@]})) || return 0
    if ((i == 100)); then
      for e in "${alive[@]}"; do
        say "${e%%:*} (pid ${e#*:}) did not stop within 10s; sending SIGKILL"
        kill -KILL "${e#*:}" 2>/dev/null || true
      done
    fi
    sleep 0.1
  done
  die "could not stop: ${alive[*]}"
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (no sudo available)"
  fi
}

# ------------------------------------------------------------------ redis ---

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(timeout 2 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
  else
    # plain RESP over /dev/tcp
    local line=""
    {
      exec 3<>"/dev/tcp/$HOST/$REDIS_PORT" &&
        printf 'PING\r\n' >&3 &&
        IFS= read -r -t 2 line <&3
    } 2>/dev/null || true
    exec 3>&- 2>/dev/null || true
    [[ "${line%$'\r'}" == "+PONG" ]]
  fi
}

redis_up() {
  redis_ping && return 0
  if port_open "$HOST" "$REDIS_PORT"; then
    die "something listens on $HOST:$REDIS_PORT but does not answer Redis PING"
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    say "redis-server not found; installing it with apt-get ..."
    command -v apt-get >/dev/null 2>&1 || die "redis-server is missing and apt-get is unavailable; install Redis manually"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
      die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null ||
      die "apt-get install redis-server failed"
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after apt-get install"
    redis_ping && return 0 # the package may have started one
  fi
  mkdir -p "$DATA/redis"
  local pf lf
  pf="$(pid_file redis)"
  lf="$(log_file redis)"
  rm -f "$pf"
  : >"$lf"
  # (redis logs to $lf itself once daemonized; early errors go to stderr -> same file)
  # shellcheck disable=SC2094
  bash -c "$CLEAN_EXEC" redis-server \
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$DATA/redis" --logfile "$lf" --pidfile "$pf" \
    </dev/null >>"$lf" 2>&1 || {
    show_log redis
    die "redis-server failed to start"
  }
  local i
  for ((i = 0; i < 100; i++)); do
    redis_ping && return 0
    sleep 0.1
  done
  show_log redis
  die "redis did not answer PING on $HOST:$REDIS_PORT within 10s"
}

# --------------------------------------------------------------- ferretdb ---

ferretdb_bin_ok() {
  local out
  [[ -x "$FERRETDB_BIN" ]] || return 1
  out="$("$FERRETDB_BIN" --version 2>/dev/null)" || return 1
  [[ $'\n'"$out"$'\n' == *$'\n'"version: $FERRETDB_VERSION"$'\n'* ]]
}

# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@vX` produces a binary
# that panics at startup (the module zip lacks build/version/version.txt, which
# is generated by their release tooling). So: copy the module source, write
# version.txt, and build from there.
ferretdb_build() {
  command -v go >/dev/null 2>&1 ||
    die "FerretDB binary missing at $FERRETDB_BIN and 'go' is not on PATH to build it (try PATH=/usr/local/go/bin:\$PATH)"
  say "building FerretDB $FERRETDB_VERSION into $FERRETDB_BIN (one-time, ~2 min) ..."
  local work src json log
  work="$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")"
  log="$work/build.log"
  export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -buildvcs=false"
  json="$(cd "$work" && go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" 2>"$log")" || {
    tail -n 20 "$log" >&2
    rm -rf "$work"
    die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION failed"
  }
  src="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" | head -n 1)"
  [[ -n "$src" && -d "$src" ]] || {
    rm -rf "$work"
    die "could not locate FerretDB module source (go mod download output: $json)"
  }
  cp -R "$src" "$work/src"
  chmod -R u+w "$work/src"
  echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  if ! (cd "$work/src" && go build -trimpath -o "$FERRETDB_BIN.tmp.$$" ./cmd/ferretdb) >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$work" "$FERRETDB_BIN.tmp.$$"
    die "building FerretDB failed"
  fi
  mv -f "$FERRETDB_BIN.tmp.$$" "$FERRETDB_BIN"
  rm -rf "$work"
  ferretdb_bin_ok || die "freshly built $FERRETDB_BIN does not report version $FERRETDB_VERSION"
}

ferretdb_up() {
  port_open "$HOST" "$FERRETDB_PORT" && return 0
  ferretdb_bin_ok || ferretdb_build
  mkdir -p "$DATA/ferretdb" "$DATA/ferretdb-state"
  local pid
  pid="$(spawn ferretdb "$DATA" "$FERRETDB_BIN" \
    --listen-addr="$HOST:$FERRETDB_PORT" \
    --handler=sqlite \
    --sqlite-url="file:$DATA/ferretdb/" \
    --state-dir="$DATA/ferretdb-state" \
    --telemetry=disable \
    --debug-addr="$FERRETDB_DEBUG_ADDR" \
    --log-level=warn)"
  wait_port ferretdb "$FERRETDB_PORT" 30 "$pid"
}

# ---------------------------------------------------------------- azurite ---

azurite_up() {
  port_open "$HOST" "$AZURITE_PORT" && return 0
  # shellcheck source=scripts/node-env.sh
  source "$REPO/scripts/node-env.sh"
  local bin="$REPO/node_modules/.bin/azurite-blob"
  if [[ ! -x "$bin" ]]; then
    say "$bin missing; running scripts/deps.sh ..."
    bash "$REPO/scripts/deps.sh"
    [[ -x "$bin" ]] || die "$bin still missing after scripts/deps.sh (is azurite in devDependencies?)"
  fi
  mkdir -p "$DATA/azurite"
  local pid
  pid="$(spawn azurite "$DATA/azurite" "$bin" \
    --blobHost "$HOST" --blobPort "$AZURITE_PORT" \
    --location "$DATA/azurite" \
    --skipApiVersionCheck --loose --disableTelemetry --silent)"
  wait_port azurite "$AZURITE_PORT" 30 "$pid"
}

# ---------------------------------------------------------------- commands ---

svc_is_up() {
  case "$1" in
    redis) redis_ping ;;
    ferretdb) port_open "$HOST" "$FERRETDB_PORT" ;;
    azurite) port_open "$HOST" "$AZURITE_PORT" ;;
  esac
}

svc_addr() {
  case "$1" in
    redis) echo "$HOST:$REDIS_PORT" ;;
    ferretdb) echo "$HOST:$FERRETDB_PORT" ;;
    azurite) echo "$HOST:$AZURITE_PORT" ;;
  esac
}

cmd_up() {
  local svc
  for svc in "${@:-${SERVICES[@]}}"; do
    case "$svc" in
      redis | ferretdb | azurite) "${svc}_up" ;;
      *) die "unknown service '$svc' (redis, ferretdb or azurite)" ;;
    esac
  done
}

cmd_down() {
  local svc pid stop=()
  for svc in "${@:-${SERVICES[@]}}"; do
    if pid="$(managed_pid "$svc")"; then stop+=("$svc:$pid"); fi
  done
  ((${#stop[@]})) || return 0
  stop_pids "${stop[@]}"
  for svc in "${@:-${SERVICES[@]}}"; do rm -f "$(pid_file "$svc")"; done
}

cmd_status() {
  local svc pid rc=0 how
  for svc in "${SERVICES[@]}"; do
    if pid="$(managed_pid "$svc")"; then how="managed, pid $pid"; else how="external"; fi
    if svc_is_up "$svc"; then
      printf '%-9s up    %-16s (%s)\n' "$svc" "$(svc_addr "$svc")" "$how"
    else
      [[ "$how" == external ]] && how="not running" || how="$how, not listening"
      printf '%-9s down  %-16s (%s)\n' "$svc" "$(svc_addr "$svc")" "$how"
      rc=1
    fi
  done
  return "$rc"
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    up | down | status) ;;
    *)
      echo "usage: $0 up|down|status" >&2
      exit 2
      ;;
  esac
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if [[ "$cmd" != status ]] && command -v flock >/dev/null 2>&1; then
    # serialize concurrent up/down calls
    exec 9>"$RUN_DIR/services.lock"
    flock -w 300 9 || die "timed out waiting for another services.sh to finish"
  fi
  shift || true
  "cmd_$cmd" "$@"
}

main "$@"
